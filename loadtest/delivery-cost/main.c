/*
 * delivery-cost: what one delivered event costs on the sidecar -> service
 * hop, without a stack (make bench-delivery).
 *
 *   delivery-cost [--n N]
 *
 * Builds one POST /internal/events body of N copies of an OrderCreated
 * event the way the sidecar does (sc_batch_add_msg), then hands it to the
 * service's handler (svc_consumer_handle_batch, with a consumer that
 * accepts no type, so that every event is parsed, decoded and answered
 * "ignored" with no database) and serialises the answer as the HTTP layer
 * does; the body is loaded with svc_json_loadb (svc/json.h), the service's
 * own parser, not jansson's json_loadb. Prints ns per event for each side.
 * For instruction counts, run it under callgrind and read the inclusive
 * cost of build_body and handle_body:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out build/bin/delivery-cost
 *   callgrind_annotate --inclusive=yes cg.out | grep -E 'build_body|handle_body'
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resilience/sidecar/batch.h"
#include "svc/clock.h"
#include "svc/consumer.h"
#include "svc/error.h"
#include "svc/service.h"

/* tests/fuzz/corpus/event/order_created: what the order service emits */
static const char event[] =
        "{\"eventId\":\"0190f3a2-7c1e-7b3a-9d2e-3f4a5b6c7d8e\",\"type\":\"OrderCreatedEvent\","
        "\"timestamp\":1732479424123,\"data\":{\"orderId\":\"5b0e8f9c-1d2e-4f3a-8b7c-"
        "6d5e4f3a2b1c\",\"userId\":\"u-1\",\"items\":[{\"productId\":\"p-1\",\"quantity\":2,"
        "\"unitPrice\":1999},{\"productId\":\"p-2\",\"quantity\":1,\"unitPrice\":500}],"
        "\"productId\":\"p-1\",\"quantity\":3,\"totalAmount\":4498,\"currency\":\"USD\","
        "\"timestamp\":1732479424123},\"metadata\":{\"correlationId\":\"5b0e8f9c-1d2e-4f3a-"
        "8b7c-6d5e4f3a2b1c\",\"version\":\"1\",\"source\":\"order-service\"}}";
static const char key[] = "5b0e8f9c-1d2e-4f3a-8b7c-6d5e4f3a2b1c";

static bool accepts_nothing(const char *type)
{
	(void)type;
	return false;
}

/* Never called: no type is accepted. */
static int apply_nothing(struct svc_ctx *ctx, struct svc_tx *tx, const struct svc_event *ev,
                         void *scratch, char *reason, size_t reasonlen)
{
	(void)ctx;
	(void)tx;
	(void)ev;
	(void)scratch;
	snprintf(reason, reasonlen, "not expected");
	return SVC_EPERMANENT;
}

static const struct svc_consumer_ops ops = {.accepts = accepts_nothing, .apply = apply_nothing};
static const struct svc_service svc = {.name = "delivery-cost", .consumer = &ops};

/* The sidecar's side: n items into one body. 0 or -1. */
static __attribute__((noinline)) int build_body(struct sc_batch *b, long n)
{
	char reason[256];

	for (long i = 0; i < n; i++) {
		struct sc_delivery_msg m = {.topic = "order.events",
		                            .partition = 3,
		                            .offset = 1000 + i,
		                            .key = key,
		                            .keylen = sizeof(key) - 1,
		                            .value = event,
		                            .len = sizeof(event) - 1};
		if (sc_batch_add_msg(b, &m, reason, sizeof(reason)) != 0)
			return -1;
	}
	return 0;
}

/* The service's side: the body handled and the answer serialised. 0 or -1. */
static __attribute__((noinline)) int handle_body(const char *body, size_t len, long n)
{
	struct svc_ctx ctx = {.svc = &svc};
	int status = 0;
	json_t *out = svc_consumer_handle_batch(&ctx, body, len, &status);
	json_t *results = json_object_get(out, "results");
	char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	int rc = text && status == 200 && json_array_size(results) == (size_t)n ? 0 : -1;

	free(text);
	json_decref(out);
	return rc;
}

int main(int argc, char **argv)
{
	long n = 10000;
	struct sc_batch b;
	const char *body;
	size_t len = 0;
	uint64_t t0, t1, t2;
	int rc = 1;

	if (argc == 3 && strcmp(argv[1], "--n") == 0)
		n = strtol(argv[2], NULL, 10);
	if (n <= 0) {
		fprintf(stderr, "usage: delivery-cost [--n N]\n");
		return 2;
	}
	sc_batch_init(&b, SIZE_MAX);
	t0 = svc_mono_us();
	if (build_body(&b, n) != 0 || !(body = sc_batch_body(&b, &len)))
		goto release;
	t1 = svc_mono_us();
	if (handle_body(body, len, n) != 0)
		goto release;
	t2 = svc_mono_us();
	printf("sidecar: item into the body  %8.1f ns/event\n",
	       (double)(t1 - t0) * 1000.0 / (double)n);
	printf("service: parse, decode, answer %6.1f ns/event  (%ld events, %zu bytes)\n",
	       (double)(t2 - t1) * 1000.0 / (double)n, n, len);
	rc = 0;
release:
	if (rc)
		fprintf(stderr, "delivery-cost: the body could not be built or handled\n");
	sc_batch_release(&b);
	return rc;
}
