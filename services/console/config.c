/* The console's configuration (config.h). */
#include "services/console/config.h"

#include <stdbool.h>
#include <string.h>

#include "resilience/sidecar/config.h"
#include "svc/config.h"
#include "svc/error.h"
#include "svc/log.h"

#define DEFAULT_SIDECARS                                                                           \
	"order=http://127.0.0.1:9081,payment=http://127.0.0.1:9082,"                               \
	"inventory=http://127.0.0.1:9083,notification=http://127.0.0.1:9084"
#define DEFAULT_GROUPS "order-service,inventory-service,payment-service,notification-service"

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= CONSOLE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool url_ok(const char *s, size_t n)
{
	if (n >= CONSOLE_URL_MAX)
		return false;
	if (n > 7 && !strncmp(s, "http://", 7))
		return true;
	return n > 8 && !strncmp(s, "https://", 8);
}

int console_targets_parse(const char *spec, struct console_target *out, size_t max)
{
	size_t count = 0;
	const char *p = spec;

	while (*p) {
		size_t len = strcspn(p, ","), nlen;
		const char *eq = memchr(p, '=', len);

		if (len == 0) {
			p++;
			continue;
		}
		if (!eq || count == max)
			return -1;
		nlen = (size_t)(eq - p);
		if (!name_ok(p, nlen) || !url_ok(eq + 1, len - nlen - 1))
			return -1;
		memcpy(out[count].name, p, nlen);
		out[count].name[nlen] = '\0';
		memcpy(out[count].url, eq + 1, len - nlen - 1);
		out[count].url[len - nlen - 1] = '\0';
		count++;
		p += len + (p[len] == ',');
	}
	return (int)count;
}

static int groups_parse(const char *spec, struct console_config *cfg)
{
	const char *p = spec;

	cfg->ngroups = 0;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len > 0) {
			if (len >= CONSOLE_NAME_MAX || cfg->ngroups == CONSOLE_GROUPS_MAX)
				return -1;
			memcpy(cfg->groups[cfg->ngroups], p, len);
			cfg->groups[cfg->ngroups++][len] = '\0';
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

int console_config_load(struct console_config *cfg)
{
	const char *sidecars = svc_env_str("CONSOLE_SIDECARS", DEFAULT_SIDECARS);
	int n;

	memset(cfg, 0, sizeof(*cfg));
	n = console_targets_parse(sidecars, cfg->sidecars, CONSOLE_SIDECARS_MAX);
	if (n < 0) {
		svc_error("config: CONSOLE_SIDECARS must be name=http://host:port,... (at most %d)",
		          CONSOLE_SIDECARS_MAX);
		return SVC_EPERMANENT;
	}
	cfg->nsidecars = (size_t)n;
	if (groups_parse(svc_env_str("CONSOLE_GROUPS", DEFAULT_GROUPS), cfg) != 0) {
		svc_error("config: CONSOLE_GROUPS: at most %d names of < %d bytes",
		          CONSOLE_GROUPS_MAX, CONSOLE_NAME_MAX);
		return SVC_EPERMANENT;
	}
	cfg->order_url = svc_env_str("CONSOLE_ORDER_URL", "http://127.0.0.1:8081");
	cfg->static_dir = svc_env_str("CONSOLE_STATIC_DIR", "services/console/static");
	cfg->http_timeout_ms = svc_env_long("CONSOLE_HTTP_TIMEOUT_MS", 2000, 100, 60000);
	cfg->sample_ms = svc_env_long("CONSOLE_SAMPLE_MS", 1000, 100, 60000);
	sc_kafka_client_from_env(&cfg->kafka);
	return 0;
}

const struct console_target *console_config_sidecar(const struct console_config *cfg,
                                                    const char *name)
{
	for (size_t i = 0; i < cfg->nsidecars; i++)
		if (!strcmp(cfg->sidecars[i].name, name))
			return &cfg->sidecars[i];
	return NULL;
}
