/*
 * Validation of POST /api/notifications bodies (pure):
 *   {"orderId"?, "userId"?, "recipient"?, "channel"?, "subject", "message"}
 * null counts as absent; unknown fields are ignored.
 */
#ifndef NOTIF_REQUEST_H
#define NOTIF_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "svc/validate.h"

#define NOTIF_SUBJECT_MAX   255
#define NOTIF_MESSAGE_MAX   4000
#define NOTIF_RECIPIENT_MAX 254

/* Strings point into the parsed JSON; NULL when absent. */
struct notif_request {
	const char *order_id;  /* a UUID */
	const char *user_id;   /* 1..64 of [A-Za-z0-9._:@-] */
	const char *recipient; /* 1..254 printable characters */
	const char *channel;   /* "log" | "webhook" | "smtp" */
	const char *subject;   /* 1..255 bytes, no control characters */
	const char *message;   /* 1..4000 bytes, no control characters but \n \r \t */
};

/* 0, or SVC_EPERMANENT with `err` filled. */
int notif_request_parse(const json_t *body, struct notif_request *out, struct svc_problem *err);

#endif
