/*
 * The simulator's ledger: a thread-safe map from string keys to stored JSON
 * answers (idempotency keys -> the first answer given; charge ids -> the
 * charge). Bounded: past `capacity` entries the oldest is forgotten, so a
 * long load test cannot exhaust memory. With a journal (gw_store_journal)
 * it survives a restart of the process.
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_store;

/* NULL on allocation failure or capacity 0. */
struct gw_store *gw_store_new(size_t capacity);
/* Accepts NULL. Closes the journal. */
void gw_store_free(struct gw_store *s);

/*
 * Keeps the store in the file `path` from now on. Call once, before any
 * other thread uses `s`. Replays what the file holds (one JSON line per
 * change; an unreadable line, such as a last one torn by a crash, is
 * skipped and logged), rewrites the file with what the store then keeps
 * (at most `capacity` entries: the file does not grow across restarts), and
 * appends every later change: each put, and each update's new body. A
 * change is written (write(2)) before the call that makes it returns, so a
 * crash or restart of the process loses nothing; with `sync` each line is
 * also fdatasync'ed, so that a crash of the machine loses nothing either.
 * 0; SVC_ETRANSIENT when the file cannot be read, written or renamed
 * (logged); SVC_ENOMEM.
 */
int gw_store_journal(struct gw_store *s, const char *path, bool sync);

/*
 * Looks `key` up. On a hit sets *status, *fingerprint and *body (a deep copy:
 * new reference, caller owns it) and returns true.
 */
bool gw_store_get(struct gw_store *s, const char *key, int *status, int64_t *fingerprint,
                  json_t **body);

/*
 * Stores `body` (reference stolen, also on failure) under `key` unless the
 * key is present. `fingerprint` identifies the request (e.g. the amount) so
 * a reused key with another request can be told apart. 0 when stored,
 * SVC_DUPLICATE when the key was already there (nothing changed), SVC_ENOMEM,
 * SVC_ETRANSIENT when the journal cannot be written (nothing changed).
 */
int gw_store_put(struct gw_store *s, const char *key, int status, int64_t fingerprint,
                 json_t *body);

/*
 * Runs `fn` on a copy of the stored body of `key` while holding the store's
 * lock (to change a charge atomically); when fn returns 0 the copy replaces
 * the body (journaled first). Returns fn's result, SVC_ENOTFOUND,
 * SVC_ENOMEM, or SVC_ETRANSIENT when the journal cannot be written (the
 * body is then unchanged). `fn` must not call into the store.
 */
int gw_store_update(struct gw_store *s, const char *key, int (*fn)(json_t *body, void *arg),
                    void *arg);

/* Number of entries (for /health/ready details). */
size_t gw_store_count(struct gw_store *s);

#endif
