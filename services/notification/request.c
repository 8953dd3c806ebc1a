/* What the notification API's requests ask for (pure; request.h). */
#include "services/notification/request.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "svc/auth.h"
#include "svc/error.h"
#include "svc/event.h"

/* Optional string field: 0 with *out NULL when absent or null; mistyped -> 400. */
static int get_str(const json_t *body, const char *field, bool required, const char **out,
                   struct svc_problem *err)
{
	const json_t *v = json_object_get(body, field);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return svc_problem_set(err, 400, field, "%s is required", field);
		return 0;
	}
	if (!json_is_string(v))
		return svc_problem_set(err, 400, field, "%s must be a string", field);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return svc_problem_set(err, 422, field, "%s must not contain NUL characters",
		                       field);
	*out = json_string_value(v);
	return 0;
}

/* No control characters; `multiline` allows \n, \r and \t. */
static bool text_ok(const char *s, bool multiline)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f)
			continue;
		if (multiline && (*p == '\n' || *p == '\r' || *p == '\t'))
			continue;
		return false;
	}
	return true;
}

int notif_request_parse(const json_t *body, struct notif_request *out, struct svc_problem *err)
{
	const json_t *recipient;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (!json_is_object(body))
		return svc_problem_set(err, 400, "", "the body must be a JSON object");
	recipient = json_object_get(body, "recipient");
	if (recipient && !json_is_null(recipient))
		return svc_problem_set(err, 422, "recipient",
		                       "notifications go to the contact stored for the user");
	if (get_str(body, "subject", true, &out->subject, err) ||
	    get_str(body, "message", true, &out->message, err) ||
	    get_str(body, "orderId", false, &out->order_id, err) ||
	    get_str(body, "userId", true, &out->user_id, err) ||
	    get_str(body, "channel", false, &out->channel, err))
		return SVC_EPERMANENT;
	if (out->subject[0] == '\0' || strlen(out->subject) > NOTIF_SUBJECT_MAX ||
	    !text_ok(out->subject, false))
		return svc_problem_set(
		        err, 422, "subject",
		        "subject must be 1..%d characters without control characters",
		        NOTIF_SUBJECT_MAX);
	if (out->message[0] == '\0' || strlen(out->message) > NOTIF_MESSAGE_MAX ||
	    !text_ok(out->message, true))
		return svc_problem_set(err, 422, "message",
		                       "message must be 1..%d characters of text",
		                       NOTIF_MESSAGE_MAX);
	if (out->order_id && !svc_uuid_valid(out->order_id))
		return svc_problem_set(err, 422, "orderId", "orderId must be a UUID");
	if (!svc_id_valid(out->user_id))
		return svc_problem_set(err, 422, "userId",
		                       "userId must be 1..64 of [A-Za-z0-9._:@-]");
	if (out->channel && strcasecmp(out->channel, "log") != 0 &&
	    strcasecmp(out->channel, "webhook") != 0 && strcasecmp(out->channel, "smtp") != 0)
		return svc_problem_set(err, 422, "channel", "channel must be log, webhook or smtp");
	return 0;
}

int notif_list_user(const struct svc_principal *who, const char *asked, const char **user_id,
                    struct svc_problem *err)
{
	memset(err, 0, sizeof(*err));
	*user_id = NULL;
	if (asked && !svc_id_valid(asked))
		return svc_problem_set(err, 400, "userId",
		                       "userId must be 1..64 of [A-Za-z0-9._:@-]");
	if (svc_principal_has(who, SVC_ROLE_ADMIN)) {
		*user_id = asked;
		return 0;
	}
	if (asked && strcmp(asked, who->subject) != 0)
		return svc_problem_set(err, 403, "userId",
		                       "a customer lists its own notifications only");
	*user_id = who->subject;
	return 0;
}
