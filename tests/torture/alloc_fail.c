/*
 * Allocation-failure injection for `make torture` (tests/checks.mk): linked
 * with -Wl,--wrap=malloc,calloc,realloc,strdup into a unit test, it sees
 * every allocation of the code under test and makes one of them fail.
 *
 *   TORTURE_FAIL_AT=N     the Nth allocation (from 1) returns NULL with errno
 *                         ENOMEM; 0 or unset: none fails
 *   TORTURE_COUNT_FILE=F  at exit, the number of allocations seen goes to F
 *
 * The failing call prints "torture: this allocation fails" and, under a
 * sanitizer, its stack: the logs of failing runs say where it was.
 *
 * Threads share one count, so in a test that allocates from several threads
 * which call is the Nth may vary from run to run.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
/* the sanitizers' runtime, when linked */
__attribute__((weak)) void __sanitizer_print_stack_trace(void);

static atomic_ulong calls;
static unsigned long fail_at;
static const char *count_file;

static void write_count(void)
{
	FILE *f = fopen(count_file, "w");

	if (f) {
		fprintf(f, "%lu\n", atomic_load(&calls));
		fclose(f);
	}
}

__attribute__((constructor)) static void torture_init(void)
{
	const char *at = getenv("TORTURE_FAIL_AT");

	fail_at = at ? strtoul(at, NULL, 10) : 0;
	count_file = getenv("TORTURE_COUNT_FILE");
	if (count_file && *count_file)
		atexit(write_count);
}

/* true for the one call that must fail */
static bool fails(void)
{
	unsigned long n = atomic_fetch_add(&calls, 1) + 1;

	if (fail_at == 0 || n != fail_at)
		return false;
	fputs("torture: this allocation fails\n", stderr);
	if (__sanitizer_print_stack_trace)
		__sanitizer_print_stack_trace();
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return fails() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return fails() ? NULL : __real_strdup(s);
}
