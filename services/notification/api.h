/*
 * The public HTTP API (openapi.json):
 *   POST /api/notifications                    admin: send one by hand to the
 *                                              contact stored for its userId
 *                                              -> 201 + record
 *   GET  /api/notifications?orderId=&userId=   newest first, at most 100
 *   GET  /api/notifications/{notificationId}   one record, 404 when unknown
 * Records: {"notificationId","orderId","userId","eventId","kind","channel",
 * "recipient","subject","body","status":"SENT|FAILED","error","createdAt"}.
 *
 * Callers hold a token (svc/auth.h). A customer lists and reads its own
 * notifications only: the list is of its user id (?userId= naming another
 * user: 403), and another's record, or one without a user, is answered 404
 * exactly as an unknown id is. An admin sends, lists everyone's (or one
 * user's, ?userId=) and reads every record.
 */
#ifndef NOTIF_API_H
#define NOTIF_API_H

#include <stddef.h>

#include "svc/http.h"

extern const struct svc_http_route notif_api_routes[];
extern const size_t notif_api_nroutes;

#endif
