/* Unit tests of chaos/killproc.h: signal names, and `chaos kill-proc --comm` on a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos/killproc.h"

static void test_chaos_signal_number_knows_names_with_or_without_sig(void **state)
{
	(void)state;
	assert_int_equal(chaos_signal_number("KILL"), SIGKILL);
	assert_int_equal(chaos_signal_number("SIGTERM"), SIGTERM);
	assert_int_equal(chaos_signal_number("INT"), SIGINT);
	assert_int_equal(chaos_signal_number("BOGUS"), -1);
	assert_int_equal(chaos_signal_number(NULL), -1);
}

/* a child named `name` that only a signal ends; its pid */
static pid_t child(const char *name, int ignore)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_NAME, name, 0, 0, 0);
		if (ignore)
			signal(ignore, SIG_IGN);
		for (;;)
			pause();
	}
	usleep(100000); /* its name set */
	return pid;
}

static void test_chaos_killproc_kills_the_process_of_that_name(void **state)
{
	char *argv[] = {"--comm", "chaostestvict", "--signal", "KILL", "--wait-ms", "2000"};
	pid_t pid = child("chaostestvict", 0);
	int status = 0;

	(void)state;
	/* the tool in a child of its own: this process reaps the victim */
	if (fork() == 0)
		_exit(chaos_killproc_main(6, argv));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	while (wait(&status) > 0)
		;
}

static void test_chaos_killproc_falls_back_when_the_signal_is_ignored(void **state)
{
	char *argv[] = {"--comm",     "chaostestterm", "--signal",  "TERM",
	                "--fallback", "KILL",          "--wait-ms", "300"};
	pid_t pid = child("chaostestterm", SIGTERM);
	int status = 0;

	(void)state;
	if (fork() == 0)
		_exit(chaos_killproc_main(8, argv));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	while (wait(&status) > 0)
		;
}

static void test_chaos_killproc_refuses_bad_arguments_and_missing_targets(void **state)
{
	char *bad[] = {"--signal", "NOPE"};
	char *unknown[] = {"--frob"};
	char *none[] = {"--comm", "no-such-process-name", "--wait-ms", "10"};

	(void)state;
	assert_int_equal(chaos_killproc_main(2, bad), 2);
	assert_int_equal(chaos_killproc_main(1, unknown), 2);
	assert_int_equal(chaos_killproc_main(4, none), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_chaos_signal_number_knows_names_with_or_without_sig),
	        cmocka_unit_test(test_chaos_killproc_kills_the_process_of_that_name),
	        cmocka_unit_test(test_chaos_killproc_falls_back_when_the_signal_is_ignored),
	        cmocka_unit_test(test_chaos_killproc_refuses_bad_arguments_and_missing_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
