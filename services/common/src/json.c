/*
 * JSON text without a tree (svc/json.h): a recursive-descent check bounded
 * by its depth limit, and the string escaper.
 */
#include "svc/json.h"

#include <stdint.h>
#include <string.h>

#include "svc/error.h"
#include "svc/utf8.h"

/* The largest decimal exponent a real may have (DBL_MAX is 1.8e308). */
#define REAL_EXP10_MAX 307
/* Exponent digits beyond this value no longer change the verdict. */
#define EXP_SATURATE 100000

struct name {
	const char *s;
	size_t len;
};

struct checker {
	const char *s;
	size_t len, pos;
	unsigned depth, max_depth;
	size_t nnames; /* names[0..nnames): of the objects open at pos */
	struct name names[SVC_JSON_NAMES_MAX];
};

static bool check_value(struct checker *c);

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* The byte at pos, or NUL at the end (a NUL byte is never valid there). */
static char peek(const struct checker *c)
{
	return c->pos < c->len ? c->s[c->pos] : '\0';
}

static void skip_ws(struct checker *c)
{
	while (c->pos < c->len) {
		char ch = c->s[c->pos];
		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
			return;
		c->pos++;
	}
}

/* The code unit of the \uXXXX at pos (pos moves past it), or -1. */
static long hex4(struct checker *c)
{
	long u = 0;

	if (c->len - c->pos < 6 || c->s[c->pos] != '\\' || c->s[c->pos + 1] != 'u')
		return -1;
	for (size_t i = c->pos + 2; i < c->pos + 6; i++) {
		char ch = c->s[i];
		int d;
		if (is_digit(ch))
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			return -1;
		u = u * 16 + d;
	}
	c->pos += 6;
	return u;
}

/* The escape at pos (a backslash). jansson refuses \u0000 without
 * JSON_ALLOW_NUL, and a surrogate escape that is not a high-low pair. */
static bool check_escape(struct checker *c)
{
	long u;

	if (c->len - c->pos < 2)
		return false;
	switch (c->s[c->pos + 1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		c->pos += 2;
		return true;
	case 'u':
		break;
	default:
		return false;
	}
	u = hex4(c);
	if (u <= 0 || (u >= 0xDC00 && u <= 0xDFFF))
		return false;
	if (u >= 0xD800 && u <= 0xDBFF) {
		u = hex4(c);
		return u >= 0xDC00 && u <= 0xDFFF;
	}
	return true;
}

/* The string at pos (its opening quote); *escaped tells whether it holds an escape. */
static bool check_string(struct checker *c, bool *escaped)
{
	*escaped = false;
	c->pos++;
	while (c->pos < c->len) {
		size_t i = c->pos, n;
		unsigned char ch;
		/* the common case in a tight loop: printable ASCII */
		while (i < c->len && (ch = (unsigned char)c->s[i]) >= 0x20 && ch < 0x80 &&
		       ch != '"' && ch != '\\')
			i++;
		c->pos = i;
		if (i == c->len)
			break;
		ch = (unsigned char)c->s[i];
		if (ch == '"') {
			c->pos++;
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch == '\\') {
			*escaped = true;
			if (!check_escape(c))
				return false;
			continue;
		}
		n = svc_utf8_seq_len(c->s + i, c->len - i);
		if (n == 0)
			return false;
		c->pos += n;
	}
	return false;
}

/* Whether the integer digits[0..n) (no leading zero) fits int64_t. */
static bool int_fits(const char *digits, size_t n, bool negative)
{
	const char *limit = negative ? "9223372036854775808" : "9223372036854775807";

	if (n != 19)
		return n < 19;
	for (size_t i = 0; i < n; i++)
		if (digits[i] != limit[i])
			return digits[i] < limit[i];
	return true;
}

/* The number at pos: RFC 8259's grammar, then the range jansson accepts. */
static bool check_number(struct checker *c)
{
	const char *s = c->s;
	size_t i = c->pos, int_start, int_len, frac_start = 0, frac_len = 0;
	bool negative = false, real = false;
	int64_t exp10 = 0;

	if (i < c->len && s[i] == '-') {
		negative = true;
		i++;
	}
	int_start = i;
	if (i >= c->len || !is_digit(s[i]))
		return false;
	if (s[i++] != '0')
		while (i < c->len && is_digit(s[i]))
			i++;
	int_len = i - int_start;
	if (i < c->len && s[i] == '.') {
		real = true;
		frac_start = ++i;
		while (i < c->len && is_digit(s[i]))
			i++;
		frac_len = i - frac_start;
		if (frac_len == 0)
			return false;
	}
	if (i < c->len && (s[i] == 'e' || s[i] == 'E')) {
		bool exp_negative = false;
		real = true;
		i++;
		if (i < c->len && (s[i] == '+' || s[i] == '-'))
			exp_negative = s[i++] == '-';
		if (i >= c->len || !is_digit(s[i]))
			return false;
		for (; i < c->len && is_digit(s[i]); i++)
			if (exp10 < EXP_SATURATE)
				exp10 = exp10 * 10 + (s[i] - '0');
		if (exp_negative)
			exp10 = -exp10;
	}
	c->pos = i;
	if (!real)
		return int_fits(s + int_start, int_len, negative);
	/* The decimal exponent of the first significant digit: only an
	 * overflow is an error (jansson takes an underflow as 0). */
	if (s[int_start] != '0')
		return (int64_t)int_len - 1 + exp10 <= REAL_EXP10_MAX;
	for (size_t k = 0; k < frac_len; k++)
		if (s[frac_start + k] != '0')
			return -(int64_t)k - 1 + exp10 <= REAL_EXP10_MAX;
	return true; /* zero */
}

/* `word` ("true", "false", "null") at pos. */
static bool check_word(struct checker *c, const char *word)
{
	for (; *word; word++, c->pos++)
		if (c->pos >= c->len || c->s[c->pos] != *word)
			return false;
	return true;
}

/* Records the name s[0..len) of the object whose names start at `first`;
 * false when the object has it already or no slot is left. */
static bool add_name(struct checker *c, size_t first, const char *s, size_t len)
{
	if (c->nnames == SVC_JSON_NAMES_MAX)
		return false;
	for (size_t i = first; i < c->nnames; i++)
		if (c->names[i].len == len && memcmp(c->names[i].s, s, len) == 0)
			return false;
	c->names[c->nnames].s = s;
	c->names[c->nnames].len = len;
	c->nnames++;
	return true;
}

/* A member's name and colon, after pos's whitespace, in the object whose
 * names start at `first`. */
static bool check_name(struct checker *c, size_t first)
{
	size_t start;
	bool escaped;

	skip_ws(c);
	start = c->pos + 1;
	if (peek(c) != '"' || !check_string(c, &escaped))
		return false;
	/* names with escapes are not compared: "a" and "\u0061" are one name */
	if (escaped || !add_name(c, first, c->s + start, c->pos - 1 - start))
		return false;
	skip_ws(c);
	if (peek(c) != ':')
		return false;
	c->pos++;
	return true;
}

/* The object or array at pos (its '{' or '['), which ends at `close`. */
static bool check_container(struct checker *c, char close)
{
	size_t first = c->nnames;

	c->pos++;
	skip_ws(c);
	if (peek(c) != close) {
		for (;;) {
			if (close == '}' && !check_name(c, first))
				return false;
			if (!check_value(c))
				return false;
			skip_ws(c);
			if (peek(c) == close)
				break;
			if (peek(c) != ',')
				return false;
			c->pos++;
		}
	}
	c->pos++;
	c->nnames = first; /* the names of an object are done with it */
	return true;
}

/* The value after pos's whitespace. */
static bool check_value(struct checker *c)
{
	bool ok, escaped;

	skip_ws(c);
	switch (peek(c)) {
	case '{':
	case '[':
		if (++c->depth > c->max_depth)
			return false;
		ok = check_container(c, peek(c) == '{' ? '}' : ']');
		c->depth--;
		return ok;
	case '"':
		return check_string(c, &escaped);
	case 't':
		return check_word(c, "true");
	case 'f':
		return check_word(c, "false");
	case 'n':
		return check_word(c, "null");
	default:
		return check_number(c);
	}
}

bool svc_json_object_valid(const char *s, size_t len, unsigned max_depth)
{
	struct checker c = {
	        .s = s,
	        .len = len,
	        .max_depth = max_depth < SVC_JSON_DEPTH_MAX ? max_depth : SVC_JSON_DEPTH_MAX,
	};

	if (!s)
		return false;
	skip_ws(&c);
	if (peek(&c) != '{' || !check_value(&c))
		return false;
	skip_ws(&c);
	return c.pos == c.len;
}

/* Whether byte `ch` goes into a JSON string as it is (bytes from 0x80 on are
 * checked as UTF-8 separately). */
static bool is_plain(unsigned char ch)
{
	return ch >= 0x20 && ch != '"' && ch != '\\';
}

int svc_json_add_string(struct svc_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* \b \t \n (no short form for \v) \f \r */
	static const char short_escapes[] = {'b', 't', 'n', '\0', 'f', 'r'};
	size_t mark = b->len, i = 0, run;

	svc_buf_add(b, "\"", 1);
	while (i < len) {
		/* the longest run copied as it is */
		for (run = i; run < len;) {
			unsigned char ch = (unsigned char)s[run];
			size_t n;
			if (ch < 0x80) {
				if (!is_plain(ch))
					break;
				run++;
			} else if ((n = svc_utf8_seq_len(s + run, len - run)) > 0) {
				run += n;
			} else {
				svc_buf_truncate(b, mark);
				return b->failed ? SVC_ENOMEM : SVC_EPERMANENT;
			}
		}
		svc_buf_add(b, s + i, run - i);
		if (run == len)
			break;
		unsigned char ch = (unsigned char)s[run];
		char esc[6] = {'\\', (char)ch, '0', '0'}; /* \" \\ or \u00XX */
		size_t esclen = 2;
		if (ch >= '\b' && ch <= '\r' && short_escapes[ch - '\b']) {
			esc[1] = short_escapes[ch - '\b'];
		} else if (ch != '"' && ch != '\\') {
			esc[1] = 'u';
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			esclen = 6;
		}
		svc_buf_add(b, esc, esclen);
		i = run + 1;
	}
	svc_buf_add(b, "\"", 1);
	return b->failed ? SVC_ENOMEM : 0;
}
