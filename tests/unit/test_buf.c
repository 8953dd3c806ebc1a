/* The growable byte buffer: svc_buf_add / adds / addf / str / take. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/buf.h"
#include "svc/error.h"

static void test_buf_empty_reads_as_empty_string(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	assert_string_equal(svc_buf_str(&b), "");
	assert_int_equal(b.len, 0);
	svc_buf_release(&b);
}

static void test_buf_appends_are_concatenated_and_terminated(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	assert_int_equal(svc_buf_adds(&b, "order"), 0);
	assert_int_equal(svc_buf_add(&b, "-svc", 4), 0);
	assert_int_equal(svc_buf_addf(&b, " %d/%s", 42, "x"), 0);
	assert_string_equal(svc_buf_str(&b), "order-svc 42/x");
	assert_int_equal(b.len, strlen("order-svc 42/x"));
	assert_true(b.cap > b.len);
	svc_buf_release(&b);
}

static void test_buf_grows_past_many_reallocations(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(svc_buf_addf(&b, "%04d", i % 10000), 0);
	assert_int_equal(b.len, 40000);
	assert_memory_equal(b.data + 4 * 9999, "9999", 4);
	assert_int_equal(b.data[b.len], '\0');
	svc_buf_release(&b);
}

static void test_buf_keeps_embedded_nul_bytes(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	assert_int_equal(svc_buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	svc_buf_release(&b);
}

static void test_buf_zero_length_add_is_fine(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	assert_int_equal(svc_buf_add(&b, NULL, 0), 0);
	assert_string_equal(svc_buf_str(&b), "");
	svc_buf_release(&b);
}

static void test_buf_take_hands_out_contents_and_resets(void **state)
{
	struct svc_buf b;
	char *s;

	(void)state;
	svc_buf_init(&b);
	svc_buf_adds(&b, "payload");
	s = svc_buf_take(&b);
	assert_string_equal(s, "payload");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	/* usable again after a take */
	svc_buf_adds(&b, "again");
	assert_string_equal(svc_buf_str(&b), "again");
	svc_buf_release(&b);
}

static void test_buf_take_of_empty_buffer_allocates_empty_string(void **state)
{
	struct svc_buf b;
	char *s;

	(void)state;
	svc_buf_init(&b);
	s = svc_buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void test_buf_failure_is_sticky_and_take_gives_null(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	svc_buf_adds(&b, "abc");
	/* A length that cannot be allocated marks the buffer failed. */
	assert_int_equal(svc_buf_add(&b, "x", SIZE_MAX - 2), SVC_ENOMEM);
	assert_int_equal(svc_buf_adds(&b, "more"), SVC_ENOMEM);
	assert_int_equal(svc_buf_addf(&b, "%d", 1), SVC_ENOMEM);
	assert_null(svc_buf_take(&b));
	/* take released the contents and reset the buffer */
	assert_null(b.data);
	assert_int_equal(b.failed, 0);
}

static void test_buf_truncate_undoes_appends(void **state)
{
	struct svc_buf b;

	(void)state;
	svc_buf_init(&b);
	svc_buf_truncate(&b, 0); /* nothing allocated yet: a no-op */
	svc_buf_adds(&b, "abc");
	svc_buf_adds(&b, "def");
	svc_buf_truncate(&b, 3);
	assert_string_equal(svc_buf_str(&b), "abc");
	assert_int_equal(b.len, 3);
	svc_buf_truncate(&b, 10); /* past the end: ignored */
	assert_int_equal(b.len, 3);
	svc_buf_adds(&b, "!");
	assert_string_equal(svc_buf_str(&b), "abc!");
	svc_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_buf_empty_reads_as_empty_string),
	        cmocka_unit_test(test_buf_appends_are_concatenated_and_terminated),
	        cmocka_unit_test(test_buf_grows_past_many_reallocations),
	        cmocka_unit_test(test_buf_keeps_embedded_nul_bytes),
	        cmocka_unit_test(test_buf_zero_length_add_is_fine),
	        cmocka_unit_test(test_buf_take_hands_out_contents_and_resets),
	        cmocka_unit_test(test_buf_take_of_empty_buffer_allocates_empty_string),
	        cmocka_unit_test(test_buf_failure_is_sticky_and_take_gives_null),
	        cmocka_unit_test(test_buf_truncate_undoes_appends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
