/* The outbox pack codec (svc/outbox_pack.h). */
#include "svc/outbox_pack.h"

#include <string.h>

#include "svc/error.h"

/* Longest length written: 8 digits cover a MEDIUMTEXT (16 MiB). */
#define PACK_LEN_DIGITS 8

static size_t digits(size_t v)
{
	size_t d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

static size_t field_size(const struct svc_outbox_span *f)
{
	return digits(f->len) + 1 + f->len + 1;
}

size_t svc_outbox_pack_size(const struct svc_outbox_msg *m)
{
	return field_size(&m->event_id) + field_size(&m->topic) + field_size(&m->key) +
	       field_size(&m->type) + field_size(&m->payload);
}

static void add_field(struct svc_buf *b, const struct svc_outbox_span *f)
{
	svc_buf_addf(b, "%zu:", f->len);
	svc_buf_add(b, f->p, f->len);
	svc_buf_add(b, ",", 1);
}

int svc_outbox_pack_add(struct svc_buf *b, const struct svc_outbox_msg *m)
{
	add_field(b, &m->event_id);
	add_field(b, &m->topic);
	add_field(b, &m->key);
	add_field(b, &m->type);
	add_field(b, &m->payload);
	return b->failed ? SVC_ENOMEM : 0;
}

/* Reads one netstring at *pos into *f, NUL-terminating it in place. */
static bool read_field(char *pack, size_t len, size_t *pos, struct svc_outbox_span *f)
{
	size_t i = *pos, v = 0, start = i;

	while (i < len && pack[i] >= '0' && pack[i] <= '9' && i - start < PACK_LEN_DIGITS)
		v = v * 10 + (size_t)(pack[i++] - '0');
	if (i == start || i >= len || pack[i] != ':' || (pack[start] == '0' && i - start > 1))
		return false;
	i++;
	if (v >= len - i || pack[i + v] != ',')
		return false;
	pack[i + v] = '\0';
	f->p = pack + i;
	f->len = v;
	*pos = i + v + 1;
	return true;
}

int svc_outbox_pack_read(char *pack, size_t len, size_t expect, struct svc_outbox_msg *out,
                         size_t *n, const char **why)
{
	size_t pos = 0;

	*n = 0;
	*why = NULL;
	while (pos < len && *n < expect) {
		struct svc_outbox_msg *m = &out[*n];

		if (!read_field(pack, len, &pos, &m->event_id) ||
		    !read_field(pack, len, &pos, &m->topic) ||
		    !read_field(pack, len, &pos, &m->key) ||
		    !read_field(pack, len, &pos, &m->type) ||
		    !read_field(pack, len, &pos, &m->payload)) {
			*why = "a field is not a well-formed netstring";
			return SVC_EPERMANENT;
		}
		if (!m->event_id.len || !m->topic.len || !m->type.len) {
			*why = "a message has no event id, topic or event type";
			return SVC_EPERMANENT;
		}
		(*n)++;
	}
	if (*n < expect)
		*why = "fewer messages than the row says";
	else if (pos < len)
		*why = "more bytes than the row's messages";
	return *why ? SVC_EPERMANENT : 0;
}
