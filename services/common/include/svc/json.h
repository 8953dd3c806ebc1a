/*
 * JSON text on hot paths: a strict check of an object's text and a string
 * escaper, without a jansson tree, for what copies JSON through (the
 * sidecar's delivery bodies); and a loader that builds jansson's tree, for
 * what reads it (the services' event and request bodies). The check and the
 * escaper are pure and allocation-free apart from the caller's buffer.
 */
#ifndef SVC_JSON_H
#define SVC_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "svc/buf.h"

/* Nesting deeper than this is refused whatever max_depth says. */
#define SVC_JSON_DEPTH_MAX 128
/* Member names tracked at once (in the objects open at a point): beyond, refused. */
#define SVC_JSON_NAMES_MAX 256

/*
 * True when s[0..len) is one JSON object (whitespace around it allowed) that
 * jansson loads with JSON_REJECT_DUPLICATES and without JSON_ALLOW_NUL, so
 * it may be embedded as it is in a larger text that is loaded that way:
 * RFC 8259 syntax, valid UTF-8 (svc/utf8.h), no "\u0000" and no unpaired
 * surrogate escape, integers within int64, reals within double range, no
 * member name twice in one object, objects and arrays nested at most
 * max_depth deep (the outer object is depth 1). It errs on the side of
 * false for what it cannot vouch for cheaply: a member name holding an
 * escape, more than SVC_JSON_NAMES_MAX names open at once, a real of
 * magnitude 1e308 or more. Pure; s need not be NUL-terminated.
 */
bool svc_json_object_valid(const char *s, size_t len, unsigned max_depth);

/*
 * Appends s[0..len) as a JSON string literal, quotes included: '"', '\\'
 * and control characters escaped (a NUL byte as \u0000), the rest copied.
 * 0, SVC_EPERMANENT when s is not valid UTF-8 (nothing appended), or
 * SVC_ENOMEM (the buffer is then failed, svc/buf.h).
 */
int svc_json_add_string(struct svc_buf *b, const char *s, size_t len);

/*
 * Loads buf[0..len) as json_loadb(buf, len, flags, err) does, into the same
 * tree, members in the text's order, at a fraction of the cost: the whole
 * text is scanned at once rather than through jansson's character stream.
 * It takes and refuses what json_loadb takes and refuses for flags 0,
 * JSON_REJECT_DUPLICATES, JSON_ALLOW_NUL, JSON_DECODE_ANY and their
 * combinations; any other flag hands the call to json_loadb. A new
 * reference (the caller owns it), or NULL with err, when not NULL, telling
 * what went wrong and where (line, column, byte position; the text is not
 * jansson's word for word, json_error_code() is). buf need not be
 * NUL-terminated; NULL is an error.
 */
json_t *svc_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err);

#endif
