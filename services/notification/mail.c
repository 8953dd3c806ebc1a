/* E-mail message construction for the SMTP channel (pure). */
#include "services/notification/mail.h"

#include <string.h>

#include "svc/error.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int notif_base64_add(struct svc_buf *out, const void *data, size_t len, bool wrap)
{
	const unsigned char *p = data;
	size_t col = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		svc_buf_add(out, q, 4);
		col += 4;
		if (wrap && col >= 76 && i + 3 < len) {
			svc_buf_add(out, "\r\n", 2);
			col = 0;
		}
	}
	return out->failed ? SVC_ENOMEM : 0;
}

bool notif_mail_address_valid(const char *addr)
{
	const char *at = strchr(addr, '@');
	size_t n = strlen(addr);

	if (n < 3 || n > 254 || !at || at == addr || at[1] == '\0' || strchr(at + 1, '@'))
		return false;
	for (const char *p = addr; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("\"<>(),;:[]\\", c))
			return false;
	}
	return true;
}

static bool header_value_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool is_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0x80)
			return false;
	return true;
}

static void add_subject(struct svc_buf *out, const char *subject)
{
	svc_buf_adds(out, "Subject: ");
	if (is_ascii(subject)) {
		svc_buf_adds(out, subject);
	} else {
		/* One encoded word; long subjects exceed the advised 75 chars but
		 * every mail reader accepts it. */
		svc_buf_adds(out, "=?UTF-8?B?");
		notif_base64_add(out, subject, strlen(subject), false);
		svc_buf_adds(out, "?=");
	}
	svc_buf_adds(out, "\r\n");
}

int notif_mail_build(struct svc_buf *out, const struct notif_mail *m)
{
	const char *domain = strchr(m->from, '@');
	char date[64];
	struct tm tm;

	if (!notif_mail_address_valid(m->from) || !notif_mail_address_valid(m->to) ||
	    !header_value_ok(m->subject) || !header_value_ok(m->message_id))
		return SVC_EPERMANENT;
	if (!gmtime_r(&m->date, &tm) ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return SVC_EPERMANENT;
	svc_buf_addf(out, "From: <%s>\r\nTo: <%s>\r\n", m->from, m->to);
	add_subject(out, m->subject);
	svc_buf_addf(out, "Date: %s\r\nMessage-ID: <%s@%s>\r\n", date, m->message_id, domain + 1);
	svc_buf_adds(out, "MIME-Version: 1.0\r\n"
	                  "Content-Type: text/plain; charset=UTF-8\r\n"
	                  "Content-Transfer-Encoding: base64\r\n"
	                  "\r\n");
	notif_base64_add(out, m->body, strlen(m->body), true);
	svc_buf_adds(out, "\r\n");
	return out->failed ? SVC_ENOMEM : 0;
}
