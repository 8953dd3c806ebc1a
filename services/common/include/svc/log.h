/*
 * Line-oriented logging to stderr, one line per call, thread-safe.
 *
 * LOG_FORMAT=json (the default): one JSON object per line,
 *   {"timestamp":"2026-11-24T20:17:04.123Z","level":"INFO","service":"order",
 *    "message":"...","correlationId":"...","orderId":"...","eventId":"...",
 *    "eventType":"..."}
 * with the last four only when known (see the context below).
 * LOG_FORMAT=text, for humans:
 *   2026-11-24T20:17:04.123Z INFO order msg [orderId=... eventType=...]
 * The level comes from LOG_LEVEL (debug|info|warn|error, default info).
 */
#ifndef SVC_LOG_H
#define SVC_LOG_H

enum svc_log_level { SVC_LOG_DEBUG, SVC_LOG_INFO, SVC_LOG_WARN, SVC_LOG_ERROR };

/* Names the process in every line and reads LOG_LEVEL and LOG_FORMAT. `name`
 * must outlive the process. */
void svc_log_init(const char *name);
void svc_log(enum svc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when lines of `level` are written (to skip building costly messages). */
int svc_log_enabled(enum svc_log_level level);

/*
 * The fields that join one order's lines across processes. NULL or "" is
 * "not known". In this system an event's correlation id is its order's id.
 */
struct svc_log_fields {
	const char *correlation_id;
	const char *order_id;
	const char *event_id;
	const char *event_type;
};

/* One line with these fields (over the thread's context, below). */
void svc_log_with(enum svc_log_level level, const struct svc_log_fields *fields, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));

/*
 * The calling thread's log context: fields every line it writes carries
 * until it is cleared. Set by the event consumer around each event it hands
 * to the service, by HTTP handlers that know their order. Only what lines
 * say depends on it, never what a function does. Strings are copied
 * (correlation and order ids cut at 63 bytes, event ids at 39, types at 63).
 */
void svc_log_context_set(const struct svc_log_fields *fields);
/* The context of one event: its id, type, and correlation id (also the
 * order id). */
void svc_log_context_event(const char *event_id, const char *event_type,
                           const char *correlation_id);
/* Only the order (and correlation) id; event fields unset. */
void svc_log_context_order(const char *order_id);
void svc_log_context_clear(void);

#define svc_debug(...) svc_log(SVC_LOG_DEBUG, __VA_ARGS__)
#define svc_info(...)  svc_log(SVC_LOG_INFO, __VA_ARGS__)
#define svc_warn(...)  svc_log(SVC_LOG_WARN, __VA_ARGS__)
#define svc_error(...) svc_log(SVC_LOG_ERROR, __VA_ARGS__)

#endif
