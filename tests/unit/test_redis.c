/*
 * Unit tests of services/common/src/redis.c (svc/redis.h) against the fake
 * Redis (fake_redis.h): replies, error replies, I/O failures and refused
 * connections (the context dropped and reopened), the socket, argv commands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/redis.h"
#include "tests/unit/fake_redis.h"

struct fixture {
	struct fake_redis *fr;
	struct svc_redis_config cfg;
	struct svc_redis *r;
};

static int teardown(void **state)
{
	struct fixture *f = *state;

	svc_redis_free(f->r);
	fake_redis_free(f->fr);
	free(f);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f)
		return -1;
	if (!(f->fr = fake_redis_new()))
		goto fail;
	f->cfg.pool_size = 2;
	fake_redis_install(f->fr, &f->cfg);
	f->r = svc_redis_open(&f->cfg);
	if (f->r)
		return 0;
fail:
	teardown(state);
	return -1;
}

static void test_redis_ping_answers_pong(void **state)
{
	struct fixture *f = *state;

	fake_redis_reply(f->fr, "+PONG\r\n");
	assert_true(svc_redis_ping(f->r));
	assert_string_equal(fake_redis_command(f->fr, 0), "PING");
	assert_string_equal(fake_redis_target(f->fr), "127.0.0.1:6379"); /* the defaults */
}

static void test_redis_ping_is_false_on_another_answer(void **state)
{
	struct fixture *f = *state;

	fake_redis_reply(f->fr, "+PANG\r\n");
	assert_false(svc_redis_ping(f->r));
	fake_redis_reply(f->fr, ":1\r\n");
	assert_false(svc_redis_ping(f->r));
}

static void test_redis_command_formats_and_returns_the_reply(void **state)
{
	struct fixture *f = *state;
	redisReply *reply;

	fake_redis_reply(f->fr, "*2\r\n$4\r\nname\r\n$3\r\nhat\r\n");
	reply = svc_redis_command(f->r, "HGETALL inv:%s", "p-1");
	assert_non_null(reply);
	assert_int_equal(reply->type, REDIS_REPLY_ARRAY);
	assert_int_equal(reply->elements, 2);
	assert_string_equal(reply->element[1]->str, "hat");
	freeReplyObject(reply);
	assert_string_equal(fake_redis_command(f->fr, 0), "HGETALL inv:p-1");
}

static void test_redis_error_reply_is_null_and_keeps_the_connection(void **state)
{
	struct fixture *f = *state;
	redisReply *reply;

	fake_redis_reply(f->fr, "-ERR wrong number of arguments\r\n");
	assert_null(svc_redis_command(f->r, "GET"));
	fake_redis_reply(f->fr, "$1\r\nv\r\n");
	reply = svc_redis_command(f->r, "GET k");
	assert_non_null(reply);
	freeReplyObject(reply);
	assert_int_equal(fake_redis_connects(f->fr), 1);
}

static void test_redis_io_failure_drops_the_context_and_reconnects(void **state)
{
	struct fixture *f = *state;
	redisReply *reply;

	fake_redis_fail_io(f->fr);
	assert_null(svc_redis_command(f->r, "GET k"));
	assert_int_equal(fake_redis_open(f->fr), 0);
	fake_redis_reply(f->fr, ":7\r\n");
	reply = svc_redis_command(f->r, "INCR k");
	assert_non_null(reply);
	assert_int_equal(reply->integer, 7);
	freeReplyObject(reply);
	assert_int_equal(fake_redis_connects(f->fr), 2);
	assert_int_equal(fake_redis_open(f->fr), 1);
	svc_redis_free(f->r);
	f->r = NULL;
	assert_int_equal(fake_redis_open(f->fr), 0); /* the pool frees its contexts */
}

static void test_redis_refused_connection_sends_nothing_and_retries_later(void **state)
{
	struct fixture *f = *state;

	fake_redis_refuse(f->fr, 1);
	fake_redis_reply(f->fr, "+PONG\r\n");
	assert_false(svc_redis_ping(f->r));
	assert_int_equal(fake_redis_commands(f->fr), 0);
	assert_int_equal(fake_redis_open(f->fr), 0);
	assert_true(svc_redis_ping(f->r)); /* reconnects, gets the queued PONG */
	assert_int_equal(fake_redis_connects(f->fr), 2);
}

static void test_redis_pool_reuses_a_connected_context(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 5; i++) {
		fake_redis_reply(f->fr, "+PONG\r\n");
		assert_true(svc_redis_ping(f->r));
	}
	assert_int_equal(fake_redis_connects(f->fr), 1);
}

static void test_redis_argv_is_sent_as_it_is(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = {"SET", "k", "%s %d"};
	redisReply *reply;

	reply = svc_redis_command_argv(f->r, 3, argv, NULL);
	assert_non_null(reply); /* the default +OK */
	freeReplyObject(reply);
	assert_string_equal(fake_redis_command(f->fr, 0), "SET k %s %d");
}

static void test_redis_socket_is_preferred_to_host_and_port(void **state)
{
	struct fixture *f = *state;
	struct svc_redis_config cfg = {
	        .host = "10.0.0.1", .port = 7000, .socket = "/run/redis.sock"};
	struct svc_redis *r;

	fake_redis_install(f->fr, &cfg);
	r = svc_redis_open(&cfg);
	assert_non_null(r);
	fake_redis_reply(f->fr, "+PONG\r\n");
	assert_true(svc_redis_ping(r));
	assert_string_equal(fake_redis_target(f->fr), "/run/redis.sock");
	svc_redis_free(r);
}

static void test_redis_null_pool_is_a_miss(void **state)
{
	(void)state;
	assert_null(svc_redis_command(NULL, "PING"));
	assert_false(svc_redis_ping(NULL));
}

static void test_redis_config_from_env_has_the_defaults_and_hiredis(void **state)
{
	struct svc_redis_config cfg;

	(void)state;
	memset(&cfg, 0xff, sizeof(cfg));
	unsetenv("REDIS_HOST");
	unsetenv("REDIS_SOCKET");
	setenv("REDIS_PORT", "6380", 1);
	svc_redis_config_from_env(&cfg);
	assert_string_equal(cfg.host, "127.0.0.1");
	assert_int_equal(cfg.port, 6380);
	assert_null(cfg.socket);
	assert_int_equal(cfg.timeout_ms, 200);
	assert_null(cfg.ops);
	unsetenv("REDIS_PORT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_redis_ping_answers_pong, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_redis_ping_is_false_on_another_answer, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_redis_command_formats_and_returns_the_reply,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_redis_error_reply_is_null_and_keeps_the_connection, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_redis_io_failure_drops_the_context_and_reconnects, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_redis_refused_connection_sends_nothing_and_retries_later, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_redis_pool_reuses_a_connected_context, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_redis_argv_is_sent_as_it_is, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_redis_socket_is_preferred_to_host_and_port,
	                                        setup, teardown),
	        cmocka_unit_test(test_redis_null_pool_is_a_miss),
	        cmocka_unit_test(test_redis_config_from_env_has_the_defaults_and_hiredis),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
