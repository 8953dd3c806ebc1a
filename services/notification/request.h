/*
 * What the notification API's requests ask for (pure).
 *
 * POST /api/notifications bodies:
 *   {"orderId"?, "userId", "channel"?, "subject", "message"}
 * null counts as absent; unknown fields are ignored, except "recipient":
 * a notification goes to the contact stored for its user, never to an
 * address the caller names, so a body with a recipient is refused (422).
 */
#ifndef NOTIF_REQUEST_H
#define NOTIF_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "svc/validate.h"

struct svc_principal;

#define NOTIF_SUBJECT_MAX   255
#define NOTIF_MESSAGE_MAX   4000
#define NOTIF_RECIPIENT_MAX 254

/* Strings point into the parsed JSON; NULL when absent. */
struct notif_request {
	const char *order_id; /* a UUID */
	const char *user_id;  /* never NULL: 1..64 of [A-Za-z0-9._:@-] */
	const char *channel;  /* "log" | "webhook" | "smtp" */
	const char *subject;  /* 1..255 bytes, no control characters */
	const char *message;  /* 1..4000 bytes, no control characters but \n \r \t */
};

/* 0, or SVC_EPERMANENT with `err` filled: 400 for a missing or mistyped
 * field, 422 for one that breaks its rules (or a recipient). */
int notif_request_parse(const json_t *body, struct notif_request *out, struct svc_problem *err);

/*
 * Whose notifications GET /api/notifications shows `who`, given its ?userId=
 * `asked` (NULL when absent): 0 with *user_id the user to list (borrowed from
 * `who` or `asked`), NULL for everyone's (an admin asking for no one); or
 * SVC_EPERMANENT with `err`: 400 for a malformed id, 403 for a customer
 * naming another user (the same answer for every other id, existing or not).
 */
int notif_list_user(const struct svc_principal *who, const char *asked, const char **user_id,
                    struct svc_problem *err);

#endif
