/*
 * The simulator's memory: a thread-safe map from string keys to stored JSON
 * answers (idempotency keys -> the first answer given; charge ids -> the
 * charge). Bounded: past `capacity` entries the oldest is forgotten, so a
 * long load test cannot exhaust memory.
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
/* Accepts NULL. */
void gw_store_free(struct gw_store *s);

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
 * SVC_DUPLICATE when the key was already there (nothing changed), SVC_ENOMEM.
 */
int gw_store_put(struct gw_store *s, const char *key, int status, int64_t fingerprint,
                 json_t *body);

/*
 * Runs `fn` on the stored body of `key` while holding the store's lock (to
 * change a charge atomically). Returns fn's result, or SVC_ENOTFOUND.
 */
int gw_store_update(struct gw_store *s, const char *key, int (*fn)(json_t *body, void *arg),
                    void *arg);

/* Number of entries (for /health/ready details). */
size_t gw_store_count(struct gw_store *s);

#endif
