/*
 * The event decoder (svc/event.h) on hostile Kafka payloads: svc_event_decode
 * (and svc_event_decode_json on the same input parsed, which must agree),
 * typed access to every field the services read, the round trip
 * decode -> encode -> decode, which must give the same envelope back, and the
 * pure readers the consumers apply to the data next: the inventory's items
 * (inv_items_parse) and the notification's order events and texts.
 */
#include "tests/fuzz/fuzz.h"

#include "services/inventory/reserve.h"
#include "services/notification/format.h"
#include "svc/error.h"
#include "svc/event.h"

/* Every data member some consumer reads (svc/events.h). */
static const char *const fields[] = {
        "orderId",        "userId",    "items",     "productId", "quantity",
        "totalAmount",    "currency",  "timestamp", "reason",    "requested",
        "available",      "unitPrice", "amount",    "paymentId", "gatewayRef",
        "notificationId", "channel",   "kind",      "recipient",
};

static void check_access(const struct svc_event *ev)
{
	char err[128];
	const char *s;
	int64_t n;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		s = NULL;
		if (svc_event_str(ev, fields[i], &s, err, sizeof(err)) == 0)
			FUZZ_CHECK(s != NULL && fuzz_utf8(s));
		else
			FUZZ_CHECK(fuzz_terminated(err, sizeof(err)) && fuzz_utf8(err));
		if (svc_event_int(ev, fields[i], &n, err, sizeof(err)) != 0)
			FUZZ_CHECK(fuzz_terminated(err, sizeof(err)) && fuzz_utf8(err));
	}
}

/* Envelope fields of a decoded event: terminated tokens of printable ASCII. */
static void check_envelope(const struct svc_event *ev)
{
	FUZZ_CHECK(svc_uuid_valid(ev->id));
	FUZZ_CHECK(fuzz_terminated(ev->type, sizeof(ev->type)) && ev->type[0]);
	FUZZ_CHECK(strcmp(ev->version, SVC_EVENT_VERSION) == 0);
	FUZZ_CHECK(fuzz_terminated(ev->correlation_id, sizeof(ev->correlation_id)));
	FUZZ_CHECK(fuzz_terminated(ev->source, sizeof(ev->source)) && ev->source[0]);
	FUZZ_CHECK(ev->causation_id[0] == '\0' || svc_uuid_valid(ev->causation_id));
	FUZZ_CHECK(ev->timestamp_ms >= 0);
	FUZZ_CHECK(json_is_object(ev->data));
}

static void check_round_trip(const struct svc_event *ev)
{
	struct svc_event again;
	char err[256];
	char *text = svc_event_encode(ev);

	if (!text)
		return; /* out of memory */
	FUZZ_CHECK(svc_event_decode(text, strlen(text), &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(strcmp(again.id, ev->id) == 0 && strcmp(again.type, ev->type) == 0);
	FUZZ_CHECK(strcmp(again.correlation_id, ev->correlation_id) == 0);
	FUZZ_CHECK(strcmp(again.source, ev->source) == 0);
	FUZZ_CHECK(strcmp(again.causation_id, ev->causation_id) == 0);
	FUZZ_CHECK(again.timestamp_ms == ev->timestamp_ms);
	FUZZ_CHECK(json_equal(again.data, ev->data));
	svc_event_release(&again);
	free(text);
}

/* data.items as the inventory reads it: distinct valid products, sorted. */
static void check_items(const struct svc_event *ev)
{
	static struct inv_item items[INV_MAX_ITEMS];
	char err[128];
	size_t n = 0;

	if (inv_items_parse(json_object_get(ev->data, "items"), items, INV_MAX_ITEMS, &n, err,
	                    sizeof(err)) != 0) {
		FUZZ_CHECK(n == 0 && fuzz_terminated(err, sizeof(err)) && err[0]);
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= INV_MAX_ITEMS);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(svc_id_valid(items[i].product_id) && items[i].quantity >= 1);
		FUZZ_CHECK(i == 0 || strcmp(items[i - 1].product_id, items[i].product_id) < 0);
	}
}

/* An order event as the notification service reads and words it: the texts
 * are stored (utf8mb4) and sent (JSON webhook, mail), so they must stay
 * valid UTF-8 when the event's strings are. */
static void check_notification(const struct svc_event *ev)
{
	struct notif_order_event oe;
	struct notif_text text;
	char err[128], to[128];

	if (notif_order_event_read(ev, &oe, err, sizeof(err)) != 0)
		return;
	notif_fallback_recipient(oe.user_id, to, sizeof(to));
	FUZZ_CHECK(fuzz_terminated(to, sizeof(to)) && fuzz_utf8(to));
	if (notif_format_order(&oe, &text) != 0)
		return;
	FUZZ_CHECK(fuzz_terminated(text.subject, sizeof(text.subject)) && fuzz_utf8(text.subject));
	FUZZ_CHECK(fuzz_terminated(text.body, sizeof(text.body)) && fuzz_utf8(text.body));
}

/* The parsed form (an event a delivery carries as its object) decodes the
 * same as the text: same verdict, same reason, same fields. */
static void check_parsed_form(const uint8_t *data, size_t size, int rc, const char *err,
                              const struct svc_event *ev)
{
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct svc_event parsed;
	char parsed_err[256];

	if (!root)
		return; /* not JSON: only the string form reaches the decoder */
	FUZZ_CHECK(svc_event_decode_json(root, &parsed, parsed_err, sizeof(parsed_err)) == rc ||
	           size > SVC_EVENT_MAX_BYTES);
	if (rc != 0 && size <= SVC_EVENT_MAX_BYTES)
		FUZZ_CHECK(strcmp(parsed_err, err) == 0);
	if (rc == 0) {
		FUZZ_CHECK(strcmp(parsed.id, ev->id) == 0 && strcmp(parsed.type, ev->type) == 0);
		FUZZ_CHECK(json_equal(parsed.data, ev->data));
	}
	svc_event_release(&parsed);
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svc_event ev;
	char err[256];

	int rc = svc_event_decode((const char *)data, size, &ev, err, sizeof(err));

	check_parsed_form(data, size, rc, err, &ev);
	if (rc != 0) {
		/* the reason goes into logs and DLQ headers: printable, terminated */
		FUZZ_CHECK(ev.data == NULL && err[0] && fuzz_terminated(err, sizeof(err)));
		for (const char *p = err; *p; p++)
			FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e);
		return 0;
	}
	check_envelope(&ev);
	check_access(&ev);
	check_round_trip(&ev);
	check_items(&ev);
	check_notification(&ev);
	svc_event_release(&ev);
	FUZZ_CHECK(ev.data == NULL);
	return 0;
}
