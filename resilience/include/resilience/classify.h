/*
 * Transient or permanent: the one place outcomes are classified, so that
 * retry and dead-letter logic read a class, never an error string.
 */
#ifndef RS_CLASSIFY_H
#define RS_CLASSIFY_H

enum rs_class { RS_SUCCESS, RS_TRANSIENT, RS_PERMANENT };

/* HTTP status: 2xx success; 408, 425, 429, 5xx except 501/505 transient;
 * others (4xx, 3xx, 1xx, 501, 505) permanent; 0 (no response) transient. */
enum rs_class rs_classify_http(long status);

/* The class's name ("transient", "permanent", ...): a static string. */
const char *rs_class_name(enum rs_class c);

#endif
