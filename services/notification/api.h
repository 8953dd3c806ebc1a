/*
 * The public HTTP API:
 *   POST /api/notifications                    send one by hand -> 201 + record
 *   GET  /api/notifications?orderId=<uuid>     newest first, at most 100
 *   GET  /api/notifications/{notificationId}   one record, 404 when unknown
 * Records: {"notificationId","orderId","eventId","kind","channel","recipient",
 * "subject","body","status":"SENT|FAILED","error","createdAt"}.
 */
#ifndef NOTIF_API_H
#define NOTIF_API_H

#include <stddef.h>

#include "svc/http.h"

extern const struct svc_http_route notif_api_routes[];
extern const size_t notif_api_nroutes;

#endif
