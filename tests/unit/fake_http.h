/*
 * A stand-in HTTP service for the unit tests (a service behind the sidecar,
 * a payment gateway, an upstream): the project's own server (svc/http.h) on
 * 127.0.0.1, at a random high port, serving the routes the test scripts.
 */
#ifndef FAKE_HTTP_H
#define FAKE_HTTP_H

#include <stddef.h>

#include "svc/http.h"

/* Starts a server with `cfg` (bind_addr and port are set here) on the first
 * free one of 10 random ports in 20000..49999 and writes its base URL,
 * "http://127.0.0.1:<port>", to base. NULL when none would start. Free it
 * with svc_http_server_free(). */
struct svc_http_server *fake_http_start(struct svc_http_server_config *cfg,
                                        const struct svc_http_route *routes, size_t nroutes,
                                        char *base, size_t baselen);

#endif
