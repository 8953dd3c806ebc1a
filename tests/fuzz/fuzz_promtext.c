/*
 * The console's Prometheus text parser (services/console/promtext.h) on
 * hostile exposition text: what a sidecar or service the console scrapes
 * could answer. Every sample handed out has terminated names and values,
 * at most CONSOLE_PROM_MAX_LABELS labels, and the parse reads only `size`
 * bytes (the input is not NUL-terminated).
 */
#include "tests/fuzz/fuzz.h"

#include "services/console/promtext.h"

static int check_sample(const struct console_prom_sample *s, void *arg)
{
	(void)arg;
	FUZZ_CHECK(fuzz_terminated(s->name, sizeof(s->name)));
	FUZZ_CHECK(s->name[0] != '\0');
	FUZZ_CHECK(s->nlabels <= CONSOLE_PROM_MAX_LABELS);
	for (size_t i = 0; i < s->nlabels; i++) {
		FUZZ_CHECK(fuzz_terminated(s->labels[i].name, sizeof(s->labels[i].name)));
		FUZZ_CHECK(fuzz_terminated(s->labels[i].value, sizeof(s->labels[i].value)));
		FUZZ_CHECK(console_prom_label(s, s->labels[i].name) != NULL);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bad = 0;

	FUZZ_CHECK(console_prom_parse((const char *)data, size, check_sample, NULL, &bad) == 0);
	FUZZ_CHECK(bad <= size);
	return 0;
}
