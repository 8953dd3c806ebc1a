/*
 * The outbox pack reader (svc/outbox_pack.h), which the relay runs on
 * whatever it finds in outbox_messages.payload: it never reads outside the
 * buffer, what it takes stays inside it, and a pack it takes is exactly what
 * svc_outbox_pack_add() writes for the messages it read (written back, the
 * same bytes: one meaning per pack).
 *
 * Input: byte 0 is the message count the row claims (1-16), the rest the
 * pack.
 */
#include "tests/fuzz/fuzz.h"

#include "svc/buf.h"
#include "svc/error.h"
#include "svc/outbox_pack.h"

#define MAX_MSGS 16

static bool inside(const char *buf, size_t len, const struct svc_outbox_span *f)
{
	return f->p >= buf && f->p + f->len <= buf + len && f->p[f->len] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svc_outbox_msg msgs[MAX_MSGS];
	const char *why = NULL;
	size_t expect, len, n = 0;
	struct svc_buf again;
	char *pack;

	if (size < 1)
		return 0;
	expect = (size_t)(data[0] % MAX_MSGS) + 1;
	len = size - 1;
	/* the relay reads a NUL-terminated copy of the column */
	pack = malloc(len + 1);
	if (!pack)
		return 0;
	memcpy(pack, data + 1, len);
	pack[len] = '\0';
	if (svc_outbox_pack_read(pack, len, expect, msgs, &n, &why) != 0) {
		FUZZ_CHECK(why != NULL);
		free(pack);
		return 0;
	}
	FUZZ_CHECK(why == NULL && n == expect);
	svc_buf_init(&again);
	for (size_t i = 0; i < n; i++) {
		const struct svc_outbox_msg *m = &msgs[i];

		FUZZ_CHECK(inside(pack, len, &m->event_id) && inside(pack, len, &m->topic) &&
		           inside(pack, len, &m->key) && inside(pack, len, &m->type) &&
		           inside(pack, len, &m->payload));
		FUZZ_CHECK(m->event_id.len && m->topic.len && m->type.len);
		FUZZ_CHECK(svc_outbox_pack_add(&again, m) == 0);
	}
	FUZZ_CHECK(again.len == len && memcmp(again.data, data + 1, len) == 0);
	svc_buf_release(&again);
	free(pack);
	return 0;
}
