/*
 * Building an e-mail message (RFC 5322) in memory for the SMTP channel. Pure:
 * no I/O, unit-tested.
 */
#ifndef NOTIF_MAIL_H
#define NOTIF_MAIL_H

#include <stdbool.h>
#include <time.h>

#include "svc/buf.h"

struct notif_mail {
	const char *from;       /* bare address: shop@example.com */
	const char *to;         /* bare address */
	const char *subject;    /* UTF-8; B-encoded (RFC 2047) when not plain ASCII */
	const char *body;       /* UTF-8 text; sent base64-encoded so any length and
	                           any line ending arrive intact */
	const char *message_id; /* unique token, becomes <message_id@from-domain> */
	time_t date;
};

/*
 * Appends the whole message (header fields From, To, Subject, Date,
 * Message-ID, MIME-Version, Content-Type, Content-Transfer-Encoding, a blank
 * line, then the body) with CRLF line ends to `out`. SVC_EPERMANENT when an
 * address is invalid or a header value holds a control character (header
 * injection), SVC_ENOMEM when the buffer failed.
 */
int notif_mail_build(struct svc_buf *out, const struct notif_mail *m);

/* A plain addr-spec: local@domain, 3..254 bytes, printable ASCII without
 * spaces, quotes, angle brackets, commas or semicolons, one '@' with text on
 * both sides. */
bool notif_mail_address_valid(const char *addr);

/* Appends base64 of `len` bytes of `data`, a CRLF after every 76 output
 * characters when `wrap` is set. */
int notif_base64_add(struct svc_buf *out, const void *data, size_t len, bool wrap);

#endif
