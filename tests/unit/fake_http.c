/* A stand-in HTTP service on 127.0.0.1 (fake_http.h). */
#include "fake_http.h"

#include <stdio.h>
#include <stdlib.h>

struct svc_http_server *fake_http_start(struct svc_http_server_config *cfg,
                                        const struct svc_http_route *routes, size_t nroutes,
                                        char *base, size_t baselen)
{
	struct svc_http_server *srv = NULL;

	cfg->bind_addr = "127.0.0.1";
	for (int i = 0; i < 10 && !srv; i++) {
		cfg->port = 20000 + (unsigned)(rand() % 30000);
		srv = svc_http_server_start(cfg, routes, nroutes, NULL);
	}
	snprintf(base, baselen, "http://127.0.0.1:%u", cfg->port);
	return srv;
}
