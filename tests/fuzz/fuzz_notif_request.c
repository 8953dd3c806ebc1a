/*
 * POST /api/notifications bodies (notif_request_parse). An accepted request
 * must hold what request.h promises, since its strings go into mail headers
 * and logs: bounded lengths, no control characters where none belong, a
 * user to look the address up for and never an address of the caller's.
 */
#include "tests/fuzz/fuzz.h"

#include <strings.h>

#include "services/notification/request.h"
#include "svc/event.h"

/* No control characters; `multiline` allows \n, \r and \t. */
static bool plain(const char *s, bool multiline)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 || *p == 0x7f) &&
		    !(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
			return false;
	return true;
}

static void check_request(const json_t *body, const struct notif_request *r)
{
	const json_t *recipient = json_object_get(body, "recipient");

	FUZZ_CHECK(!recipient || json_is_null(recipient));
	FUZZ_CHECK(r->subject && r->subject[0] && strlen(r->subject) <= NOTIF_SUBJECT_MAX);
	FUZZ_CHECK(plain(r->subject, false));
	FUZZ_CHECK(r->message && r->message[0] && strlen(r->message) <= NOTIF_MESSAGE_MAX);
	FUZZ_CHECK(plain(r->message, true));
	FUZZ_CHECK(!r->order_id || svc_uuid_valid(r->order_id));
	FUZZ_CHECK(r->user_id && svc_id_valid(r->user_id));
	FUZZ_CHECK(!r->channel || !strcasecmp(r->channel, "log") ||
	           !strcasecmp(r->channel, "webhook") || !strcasecmp(r->channel, "smtp"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = fuzz_body_parse(data, size);
	struct notif_request req;
	struct svc_problem err;

	if (!body)
		return 0;
	if (notif_request_parse(body, &req, &err) == 0)
		check_request(body, &req);
	else
		fuzz_check_problem(&err);
	json_decref(body);
	return 0;
}
