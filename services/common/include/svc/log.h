/*
 * Line-oriented logging to stderr: "2026-11-24T20:17:04.123Z INFO order msg".
 * Thread-safe. The level comes from LOG_LEVEL (debug|info|warn|error, default
 * info).
 */
#ifndef SVC_LOG_H
#define SVC_LOG_H

enum svc_log_level { SVC_LOG_DEBUG, SVC_LOG_INFO, SVC_LOG_WARN, SVC_LOG_ERROR };

/* Names the process in every line and reads LOG_LEVEL. `name` must outlive the process. */
void svc_log_init(const char *name);
void svc_log(enum svc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when lines of `level` are written (to skip building costly messages). */
int svc_log_enabled(enum svc_log_level level);

#define svc_debug(...) svc_log(SVC_LOG_DEBUG, __VA_ARGS__)
#define svc_info(...)  svc_log(SVC_LOG_INFO, __VA_ARGS__)
#define svc_warn(...)  svc_log(SVC_LOG_WARN, __VA_ARGS__)
#define svc_error(...) svc_log(SVC_LOG_ERROR, __VA_ARGS__)

#endif
