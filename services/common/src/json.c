/*
 * JSON text (svc/json.h): a scanner over a contiguous buffer, shared by a
 * recursive-descent check bounded by its depth limit and by a loader that
 * builds jansson's tree; and the string escaper.
 */
#include "svc/json.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/error.h"
#include "svc/utf8.h"

/* The largest decimal exponent a real may have (DBL_MAX is 1.8e308). */
#define REAL_EXP10_MAX 307
/* Exponent digits beyond this value no longer change the verdict. */
#define EXP_SATURATE 100000
/* What scan_string() saw in a string besides plain characters. */
#define SEEN_ESCAPE 1u
#define SEEN_NUL    2u /* a \u0000 escape */
/* The flags svc_json_loadb() handles itself. */
#define LOAD_FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY)

/* ---- the scanner: the grammar of each kind of token -------------------- */

/* A text and a position in it; `why` says what a failed scan found wrong. */
struct scan {
	const char *s;
	size_t len, pos;
	const char *why;
};

/* A number's parts, as scan_number() found them (offsets into the text). */
struct number {
	size_t start, int_start, int_len, frac_start, frac_len;
	int64_t exp10;
	bool negative, real;
};

/* By byte value, 1 for what a string holds as it is: printable ASCII but
 * '"' (0x22) and '\\' (0x5C); DEL (0x7F) included, as in jansson. Bytes
 * from 0x80 on are 0: they are checked as UTF-8. */
static const unsigned char plain_ascii[256] = {
        /* clang-format off */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        /* clang-format on */
};

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* The byte at pos, or NUL at the end (a NUL byte is never valid there). */
static char peek(const struct scan *sc)
{
	return sc->pos < sc->len ? sc->s[sc->pos] : '\0';
}

static void skip_ws(struct scan *sc)
{
	while (sc->pos < sc->len) {
		char ch = sc->s[sc->pos];
		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
			return;
		sc->pos++;
	}
}

/* False, with `why` recorded. */
static bool scan_fail(struct scan *sc, const char *why)
{
	sc->why = why;
	return false;
}

/* The code unit of the \uXXXX at pos (pos moves past it), or -1. */
static long hex4(struct scan *sc)
{
	long u = 0;

	if (sc->len - sc->pos < 6 || sc->s[sc->pos] != '\\' || sc->s[sc->pos + 1] != 'u')
		return -1;
	for (size_t i = sc->pos + 2; i < sc->pos + 6; i++) {
		char ch = sc->s[i];
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
	sc->pos += 6;
	return u;
}

/* The escape at pos (a backslash). A surrogate escape must be a high-low
 * pair, as jansson requires; a \u0000 is noted in *seen. */
static bool scan_escape(struct scan *sc, unsigned *seen)
{
	long u;

	if (sc->len - sc->pos < 2)
		return scan_fail(sc, "premature end of input");
	switch (sc->s[sc->pos + 1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		sc->pos += 2;
		return true;
	case 'u':
		break;
	default:
		return scan_fail(sc, "invalid escape");
	}
	u = hex4(sc);
	if (u < 0)
		return scan_fail(sc, "invalid \\u escape");
	if (u >= 0xDC00 && u <= 0xDFFF)
		return scan_fail(sc, "invalid Unicode: a low surrogate alone");
	if (u >= 0xD800 && u <= 0xDBFF) {
		u = hex4(sc);
		if (u < 0xDC00 || u > 0xDFFF)
			return scan_fail(sc, "invalid Unicode: a high surrogate alone");
	}
	if (u == 0)
		*seen |= SEEN_NUL;
	return true;
}

/* The string at pos (its opening quote); pos moves past the closing one.
 * *seen tells whether it holds an escape (SEEN_ESCAPE) and a \u0000 (SEEN_NUL). */
static bool scan_string(struct scan *sc, unsigned *seen)
{
	*seen = 0;
	sc->pos++;
	while (sc->pos < sc->len) {
		size_t i = sc->pos, n;
		unsigned char ch;
		/* the common case in a tight loop: printable ASCII */
		while (i < sc->len && plain_ascii[(unsigned char)sc->s[i]])
			i++;
		sc->pos = i;
		if (i == sc->len)
			break;
		ch = (unsigned char)sc->s[i];
		if (ch == '"') {
			sc->pos++;
			return true;
		}
		if (ch < 0x20)
			return scan_fail(sc, "control character in a string");
		if (ch == '\\') {
			*seen |= SEEN_ESCAPE;
			if (!scan_escape(sc, seen))
				return false;
			continue;
		}
		n = svc_utf8_seq_len(sc->s + i, sc->len - i);
		if (n == 0)
			return scan_fail(sc, "invalid UTF-8");
		sc->pos += n;
	}
	return scan_fail(sc, "premature end of input in a string");
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

/* The number at pos, by RFC 8259's grammar (no range check). */
static bool scan_number(struct scan *sc, struct number *num)
{
	const char *s = sc->s;
	size_t i = sc->pos;

	*num = (struct number){.start = i};
	if (i < sc->len && s[i] == '-') {
		num->negative = true;
		i++;
	}
	num->int_start = i;
	if (i >= sc->len || !is_digit(s[i]))
		return scan_fail(sc, "invalid token");
	if (s[i++] != '0')
		while (i < sc->len && is_digit(s[i]))
			i++;
	num->int_len = i - num->int_start;
	if (i < sc->len && s[i] == '.') {
		num->real = true;
		num->frac_start = ++i;
		while (i < sc->len && is_digit(s[i]))
			i++;
		num->frac_len = i - num->frac_start;
		if (num->frac_len == 0)
			return scan_fail(sc, "invalid number: no digit after '.'");
	}
	if (i < sc->len && (s[i] == 'e' || s[i] == 'E')) {
		bool exp_negative = false;
		num->real = true;
		i++;
		if (i < sc->len && (s[i] == '+' || s[i] == '-'))
			exp_negative = s[i++] == '-';
		if (i >= sc->len || !is_digit(s[i]))
			return scan_fail(sc, "invalid number: no digit in the exponent");
		for (; i < sc->len && is_digit(s[i]); i++)
			if (num->exp10 < EXP_SATURATE)
				num->exp10 = num->exp10 * 10 + (s[i] - '0');
		if (exp_negative)
			num->exp10 = -num->exp10;
	}
	sc->pos = i;
	return true;
}

/* `word` ("true", "false", "null") at pos. */
static bool scan_word(struct scan *sc, const char *word)
{
	for (; *word; word++, sc->pos++)
		if (sc->pos >= sc->len || sc->s[sc->pos] != *word)
			return scan_fail(sc, "invalid token");
	return true;
}

/* ---- the check: svc_json_object_valid() -------------------------------- */

struct name {
	const char *s;
	size_t len;
};

struct checker {
	struct scan sc;
	unsigned depth, max_depth;
	size_t nnames; /* names[0..nnames): of the objects open at pos */
	struct name names[SVC_JSON_NAMES_MAX];
};

static bool check_value(struct checker *c);

/* The number at pos: the grammar, then the range jansson accepts. */
static bool check_number(struct checker *c)
{
	const char *s = c->sc.s;
	struct number n;

	if (!scan_number(&c->sc, &n))
		return false;
	if (!n.real)
		return int_fits(s + n.int_start, n.int_len, n.negative);
	/* The decimal exponent of the first significant digit: only an
	 * overflow is an error (jansson takes an underflow as 0). */
	if (s[n.int_start] != '0')
		return (int64_t)n.int_len - 1 + n.exp10 <= REAL_EXP10_MAX;
	for (size_t k = 0; k < n.frac_len; k++)
		if (s[n.frac_start + k] != '0')
			return -(int64_t)k - 1 + n.exp10 <= REAL_EXP10_MAX;
	return true; /* zero */
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
	unsigned seen;

	skip_ws(&c->sc);
	start = c->sc.pos + 1;
	if (peek(&c->sc) != '"' || !scan_string(&c->sc, &seen))
		return false;
	/* names with escapes are not compared: "a" and "\u0061" are one name */
	if (seen || !add_name(c, first, c->sc.s + start, c->sc.pos - 1 - start))
		return false;
	skip_ws(&c->sc);
	if (peek(&c->sc) != ':')
		return false;
	c->sc.pos++;
	return true;
}

/* The object or array at pos (its '{' or '['), which ends at `close`. */
static bool check_container(struct checker *c, char close)
{
	size_t first = c->nnames;

	c->sc.pos++;
	skip_ws(&c->sc);
	if (peek(&c->sc) != close) {
		for (;;) {
			if (close == '}' && !check_name(c, first))
				return false;
			if (!check_value(c))
				return false;
			skip_ws(&c->sc);
			if (peek(&c->sc) == close)
				break;
			if (peek(&c->sc) != ',')
				return false;
			c->sc.pos++;
		}
	}
	c->sc.pos++;
	c->nnames = first; /* the names of an object are done with it */
	return true;
}

/* The value after pos's whitespace. */
static bool check_value(struct checker *c)
{
	bool ok;
	unsigned seen;

	skip_ws(&c->sc);
	switch (peek(&c->sc)) {
	case '{':
	case '[':
		if (++c->depth > c->max_depth)
			return false;
		ok = check_container(c, peek(&c->sc) == '{' ? '}' : ']');
		c->depth--;
		return ok;
	case '"':
		/* jansson refuses \u0000 without JSON_ALLOW_NUL */
		return scan_string(&c->sc, &seen) && !(seen & SEEN_NUL);
	case 't':
		return scan_word(&c->sc, "true");
	case 'f':
		return scan_word(&c->sc, "false");
	case 'n':
		return scan_word(&c->sc, "null");
	default:
		return check_number(c);
	}
}

bool svc_json_object_valid(const char *s, size_t len, unsigned max_depth)
{
	struct checker c = {
	        .sc = {.s = s, .len = len},
	        .max_depth = max_depth < SVC_JSON_DEPTH_MAX ? max_depth : SVC_JSON_DEPTH_MAX,
	};

	if (!s)
		return false;
	skip_ws(&c.sc);
	if (peek(&c.sc) != '{' || !check_value(&c))
		return false;
	skip_ws(&c.sc);
	return c.sc.pos == c.sc.len;
}

/* ---- the loader: svc_json_loadb() --------------------------------------- */

struct loader {
	struct scan sc;
	size_t flags;
	unsigned depth; /* of the value being loaded, counted as jansson counts */
	json_error_t *err;
};

/* A string's content: in the text, or unescaped into `owned` (the caller frees). */
struct text {
	const char *s;
	size_t len;
	char *owned;
	bool nul;
};

static json_t *load_value(struct loader *ld);

/* Says in ld->err what went wrong at pos, as jansson's json_error_t does. NULL. */
static json_t *load_fail(struct loader *ld, enum json_error_code code, const char *what)
{
	json_error_t *e = ld->err;
	size_t pos = ld->sc.pos < ld->sc.len ? ld->sc.pos : ld->sc.len, line_start = 0;
	int line = 1;

	if (!e)
		return NULL;
	for (size_t i = 0; i < pos; i++)
		if (ld->sc.s[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	e->line = line;
	e->column = (int)(pos - line_start < INT_MAX ? pos - line_start + 1 : INT_MAX);
	e->position = (int)(pos < INT_MAX ? pos : INT_MAX);
	snprintf(e->text, JSON_ERROR_TEXT_LENGTH - 1, "%s", what);
	e->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)code;
	return NULL;
}

static json_t *load_oom(struct loader *ld)
{
	return load_fail(ld, json_error_out_of_memory, "out of memory");
}

/* Writes code point u as UTF-8 at out; its length. */
static size_t utf8_put(long u, char *out)
{
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xC0 | (u >> 6));
		out[1] = (char)(0x80 | (u & 0x3F));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (char)(0xE0 | (u >> 12));
		out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
		out[2] = (char)(0x80 | (u & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (u >> 18));
	out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
	out[3] = (char)(0x80 | (u & 0x3F));
	return 4;
}

/* Unescapes raw[0..len), a string's content scan_string() took, into out
 * (never longer than raw); the length written. */
static size_t unescape(const char *raw, size_t len, char *out)
{
	static const char coded[] = "\"\\/bfnrt", plain[] = "\"\\/\b\f\n\r\t";
	struct scan sc = {.s = raw, .len = len};
	size_t n = 0;

	while (sc.pos < len) {
		long u;
		if (raw[sc.pos] != '\\') {
			out[n++] = raw[sc.pos++];
		} else if (raw[sc.pos + 1] != 'u') {
			out[n++] = plain[strchr(coded, raw[sc.pos + 1]) - coded];
			sc.pos += 2;
		} else {
			u = hex4(&sc);
			if (u >= 0xD800 && u <= 0xDBFF)
				u = 0x10000 + ((u - 0xD800) << 10) + (hex4(&sc) - 0xDC00);
			n += utf8_put(u, out + n);
		}
	}
	return n;
}

/* The string at pos (its opening quote), into *t. */
static bool load_text(struct loader *ld, struct text *t)
{
	size_t start = ld->sc.pos + 1;
	unsigned seen;

	t->owned = NULL;
	if (!scan_string(&ld->sc, &seen)) {
		load_fail(ld, json_error_invalid_syntax, ld->sc.why);
		return false;
	}
	t->s = ld->sc.s + start;
	t->len = ld->sc.pos - 1 - start;
	t->nul = seen & SEEN_NUL;
	if (!(seen & SEEN_ESCAPE))
		return true;
	t->owned = malloc(t->len); /* at least 2: the escape */
	if (!t->owned) {
		load_oom(ld);
		return false;
	}
	t->len = unescape(t->s, t->len, t->owned);
	t->s = t->owned;
	return true;
}

static json_t *load_string(struct loader *ld)
{
	struct text t;
	json_t *v = NULL;

	if (!load_text(ld, &t))
		return NULL;
	if (t.nul && !(ld->flags & JSON_ALLOW_NUL))
		load_fail(ld, json_error_null_character,
		          "\\u0000 is not allowed without JSON_ALLOW_NUL");
	else if (!(v = json_stringn_nocheck(t.s, t.len)))
		load_oom(ld);
	free(t.owned);
	return v;
}

/* After a number or a word: jansson's lexer reads the byte that ends it and
 * puts it back, and a NUL byte put back is lost (its stream takes a NUL in
 * its buffer for "empty"), so one NUL byte there is skipped as jansson
 * skips it. */
static void skip_lost_nul(struct loader *ld)
{
	if (ld->sc.pos < ld->sc.len && ld->sc.s[ld->sc.pos] == '\0')
		ld->sc.pos++;
}

/* The value of digits[0..n), an integer int_fits() takes. */
static json_int_t int_value(const char *digits, size_t n, bool negative)
{
	uint64_t u = 0;

	for (size_t i = 0; i < n; i++)
		u = u * 10 + (uint64_t)(digits[i] - '0');
	return negative && u ? -(json_int_t)(u - 1) - 1 : (json_int_t)u;
}

/* The real s[start..pos): strtod() as jansson calls it (the locale's decimal
 * point, an overflow refused, an underflow taken). */
static json_t *load_real(struct loader *ld, size_t start)
{
	char small[32], *text = small, *point;
	const char *decimal_point = localeconv()->decimal_point;
	size_t len = ld->sc.pos - start;
	json_t *v = NULL;
	double d;

	if (len >= sizeof(small) && !(text = malloc(len + 1)))
		return load_oom(ld);
	memcpy(text, ld->sc.s + start, len);
	text[len] = '\0';
	if (*decimal_point != '.' && (point = memchr(text, '.', len)))
		*point = *decimal_point;
	errno = 0;
	d = strtod(text, NULL);
	if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
		load_fail(ld, json_error_numeric_overflow, "real number overflow");
	else if (!(v = json_real(d)))
		load_oom(ld);
	if (text != small)
		free(text);
	return v;
}

static json_t *load_number(struct loader *ld)
{
	struct number n;
	json_t *v;

	if (!scan_number(&ld->sc, &n))
		return load_fail(ld, json_error_invalid_syntax, ld->sc.why);
	if (n.real)
		v = load_real(ld, n.start);
	else if (!int_fits(ld->sc.s + n.int_start, n.int_len, n.negative))
		v = load_fail(ld, json_error_numeric_overflow,
		              n.negative ? "too big negative integer" : "too big integer");
	else if (!(v = json_integer(int_value(ld->sc.s + n.int_start, n.int_len, n.negative))))
		load_oom(ld);
	skip_lost_nul(ld);
	return v;
}

/* `word` at pos, which stands for `v` (a jansson singleton). */
static json_t *load_word(struct loader *ld, const char *word, json_t *v)
{
	if (!scan_word(&ld->sc, word))
		return load_fail(ld, json_error_invalid_syntax, ld->sc.why);
	skip_lost_nul(ld);
	return v;
}

/* Past the '{' or '[' at pos and the whitespace after it: 1 when `close`
 * follows at once (pos moves past it), 0 when an item does. */
static int load_open(struct loader *ld, char close)
{
	ld->sc.pos++;
	skip_ws(&ld->sc);
	if (peek(&ld->sc) != close)
		return 0;
	ld->sc.pos++;
	return 1;
}

/* What follows an item of the object or array that ends at `close`, after
 * the whitespace: 0 for ',' (another item follows), 1 for `close` (pos moves
 * past either), -1 for anything else (the error said). */
static int load_after_item(struct loader *ld, char close)
{
	skip_ws(&ld->sc);
	if (peek(&ld->sc) == ',' || peek(&ld->sc) == close)
		return ld->sc.s[ld->sc.pos++] == close;
	load_fail(ld, json_error_invalid_syntax,
	          close == '}' ? "',' or '}' expected" : "',' or ']' expected");
	return -1;
}

/* The object at pos (its '{'). Members keep the text's order; a name seen
 * again replaces the earlier value unless JSON_REJECT_DUPLICATES. */
static json_t *load_object(struct loader *ld)
{
	json_t *obj = json_object(), *v;
	struct text name = {0};
	size_t size;
	int end;

	if (!obj)
		return load_oom(ld);
	end = load_open(ld, '}');
	while (end == 0) {
		skip_ws(&ld->sc);
		if (peek(&ld->sc) != '"') {
			load_fail(ld, json_error_invalid_syntax, "string or '}' expected");
			goto free_obj;
		}
		if (!load_text(ld, &name))
			goto free_obj;
		if (name.nul) {
			load_fail(ld, json_error_null_byte_in_key,
			          "NUL byte in object key not supported");
			goto free_obj;
		}
		skip_ws(&ld->sc);
		if (peek(&ld->sc) != ':') {
			load_fail(ld, json_error_invalid_syntax, "':' expected");
			goto free_obj;
		}
		ld->sc.pos++;
		if (!(v = load_value(ld)))
			goto free_obj;
		/* a name seen before leaves the size as it was */
		size = json_object_size(obj);
		if (json_object_setn_new_nocheck(obj, name.s, name.len, v) != 0) {
			load_oom(ld);
			goto free_obj;
		}
		if ((ld->flags & JSON_REJECT_DUPLICATES) && json_object_size(obj) == size) {
			load_fail(ld, json_error_duplicate_key, "duplicate object key");
			goto free_obj;
		}
		free(name.owned);
		name.owned = NULL;
		end = load_after_item(ld, '}');
	}
	if (end > 0)
		return obj;
free_obj:
	free(name.owned);
	json_decref(obj);
	return NULL;
}

/* The array at pos (its '['). */
static json_t *load_array(struct loader *ld)
{
	json_t *arr = json_array(), *v;
	int end;

	if (!arr)
		return load_oom(ld);
	end = load_open(ld, ']');
	while (end == 0) {
		if (!(v = load_value(ld)))
			goto free_arr;
		if (json_array_append_new(arr, v) != 0) {
			load_oom(ld);
			goto free_arr;
		}
		end = load_after_item(ld, ']');
	}
	if (end > 0)
		return arr;
free_arr:
	json_decref(arr);
	return NULL;
}

/* The value after pos's whitespace. */
static json_t *load_value(struct loader *ld)
{
	json_t *v;

	/* jansson counts every value, scalars included */
	if (++ld->depth > JSON_PARSER_MAX_DEPTH)
		return load_fail(ld, json_error_stack_overflow, "maximum parsing depth reached");
	skip_ws(&ld->sc);
	switch (peek(&ld->sc)) {
	case '{':
		v = load_object(ld);
		break;
	case '[':
		v = load_array(ld);
		break;
	case '"':
		v = load_string(ld);
		break;
	case 't':
		v = load_word(ld, "true", json_true());
		break;
	case 'f':
		v = load_word(ld, "false", json_false());
		break;
	case 'n':
		v = load_word(ld, "null", json_null());
		break;
	case '\0':
		v = ld->sc.pos == ld->sc.len
		            ? load_fail(ld, json_error_premature_end_of_input,
		                        "premature end of input")
		            : load_fail(ld, json_error_invalid_syntax, "invalid token");
		break;
	default:
		v = load_number(ld);
	}
	ld->depth--;
	return v;
}

json_t *svc_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err)
{
	struct loader ld = {.sc = {.s = buf, .len = len}, .flags = flags, .err = err};
	json_t *v;
	char first;

	if (flags & ~(size_t)LOAD_FLAGS)
		return json_loadb(buf, len, flags, err);
	if (err) {
		*err = (json_error_t){.line = -1, .column = -1};
		snprintf(err->source, sizeof(err->source), "%s", "<buffer>");
	}
	if (!buf)
		return load_fail(&ld, json_error_invalid_argument, "wrong arguments");
	skip_ws(&ld.sc);
	first = peek(&ld.sc);
	if (!(flags & JSON_DECODE_ANY) && first != '{' && first != '[')
		return load_fail(&ld, json_error_invalid_syntax, "'[' or '{' expected");
	if (!(v = load_value(&ld)))
		return NULL;
	skip_ws(&ld.sc);
	if (ld.sc.pos != len) {
		json_decref(v);
		return load_fail(&ld, json_error_end_of_input_expected, "end of file expected");
	}
	if (err)
		err->position = (int)(len < INT_MAX ? len : INT_MAX);
	return v;
}

/* ---- the escaper: svc_json_add_string() ------------------------------- */

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
