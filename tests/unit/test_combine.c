/*
 * The combiner (svc/combine.h), with a fake run that records the groups it
 * is handed and can hold the first one until the test lets it go. Requests
 * are started one at a time, each once the previous one is in place, so
 * the groups and their order do not depend on the scheduler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "svc/clock.h"
#include "svc/combine.h"
#include "svc/error.h"

#define LATE 5 /* requests that arrive while the first run works */

struct item {
	int id;     /* which request */
	int answer; /* left by the run: id * 10 */
};

struct fake {
	struct svc_combiner c;
	pthread_mutex_t mu;
	bool hold;        /* under mu: the first run waits while set */
	size_t runs;      /* under mu */
	size_t sizes[4];  /* under mu: items per run */
	int ids[4][LATE]; /* under mu: item ids per run, in the order handed over */
	int fail;         /* what every run returns */
};

struct request {
	struct fake *f;
	struct item item;
	int rc;
};

static size_t runs_started(struct fake *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->runs;
	pthread_mutex_unlock(&f->mu);
	return n;
}

static bool held(struct fake *f)
{
	bool h;

	pthread_mutex_lock(&f->mu);
	h = f->hold;
	pthread_mutex_unlock(&f->mu);
	return h;
}

static int fake_run(void *arg, void *const *items, size_t n)
{
	struct fake *f = arg;
	size_t run;

	pthread_mutex_lock(&f->mu);
	run = f->runs++;
	if (run < 4) {
		f->sizes[run] = n;
		for (size_t i = 0; i < n && i < LATE; i++)
			f->ids[run][i] = ((struct item *)items[i])->id;
	}
	pthread_mutex_unlock(&f->mu);
	/* Bounded: a broken combiner fails the counts instead of hanging. */
	for (int i = 0; run == 0 && held(f) && i < 5000; i++)
		svc_sleep_ms(2);
	for (size_t i = 0; i < n; i++) {
		struct item *it = items[i];

		it->answer = it->id * 10;
	}
	return f->fail;
}

static int setup(void **state)
{
	static struct fake f;

	memset(&f, 0, sizeof(f));
	if (pthread_mutex_init(&f.mu, NULL) != 0)
		return -1;
	if (svc_combiner_init(&f.c, fake_run, &f) != 0) {
		pthread_mutex_destroy(&f.mu);
		return -1;
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	svc_combiner_release(&f->c);
	pthread_mutex_destroy(&f->mu);
	return 0;
}

static void *request_main(void *arg)
{
	struct request *r = arg;

	r->rc = svc_combine(&r->f->c, &r->item);
	return NULL;
}

/* Waits (bounded) until what(f) is `want`. */
static bool wait_for(size_t (*what)(struct fake *), struct fake *f, size_t want)
{
	for (int i = 0; i < 5000; i++) {
		if (what(f) == want)
			return true;
		svc_sleep_ms(1);
	}
	return false;
}

static size_t waiting(struct fake *f)
{
	return svc_combiner_waiting(&f->c);
}

/*
 * Request 0 starts a run that is held; requests 1..LATE arrive one after
 * the other while it works; then the run is let go and all are joined.
 */
static void run_requests(struct fake *f, struct request *r)
{
	pthread_t t[LATE + 1];

	f->hold = true;
	for (int i = 0; i <= LATE; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].f = f;
		r[i].item.id = i + 1;
		assert_int_equal(pthread_create(&t[i], NULL, request_main, &r[i]), 0);
		if (i == 0)
			assert_true(wait_for(runs_started, f, 1));
		else
			assert_true(wait_for(waiting, f, (size_t)i));
	}
	pthread_mutex_lock(&f->mu);
	f->hold = false;
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i <= LATE; i++)
		pthread_join(t[i], NULL);
}

static void test_combine_lone_request_runs_at_once(void **state)
{
	struct fake *f = *state;
	struct item it = {.id = 7};

	assert_int_equal(svc_combine(&f->c, &it), 0);
	assert_int_equal(f->runs, 1);
	assert_int_equal(f->sizes[0], 1);
	assert_int_equal(it.answer, 70); /* what the run left in the item */
	assert_int_equal(svc_combiner_waiting(&f->c), 0);
}

static void test_combine_requests_during_a_run_share_the_next(void **state)
{
	struct fake *f = *state;
	struct request r[LATE + 1];

	run_requests(f, r);
	/* the first caller's run, then one for all that came meanwhile */
	assert_int_equal(f->runs, 2);
	assert_int_equal(f->sizes[0], 1);
	assert_int_equal(f->sizes[1], LATE);
	for (int i = 0; i <= LATE; i++) {
		assert_int_equal(r[i].rc, 0);
		assert_int_equal(r[i].item.answer, r[i].item.id * 10);
	}
	assert_int_equal(svc_combiner_waiting(&f->c), 0);
}

static void test_combine_hands_items_over_in_arrival_order(void **state)
{
	struct fake *f = *state;
	struct request r[LATE + 1];

	run_requests(f, r);
	assert_int_equal(f->runs, 2);
	assert_int_equal(f->ids[0][0], 1);
	for (int i = 0; i < LATE; i++)
		assert_int_equal(f->ids[1][i], i + 2);
}

static void test_combine_failure_reaches_every_request(void **state)
{
	struct fake *f = *state;
	struct request r[LATE + 1];

	f->fail = SVC_ETRANSIENT;
	run_requests(f, r);
	assert_int_equal(f->runs, 2); /* no second try: the callers decide */
	for (int i = 0; i <= LATE; i++)
		assert_int_equal(r[i].rc, SVC_ETRANSIENT);
}

/* A lone request that lingers: nobody comes, so it runs alone, late. */
static void test_combine_linger_alone_runs_alone_after_the_linger(void **state)
{
	struct fake *f = *state;
	struct item it = {.id = 3};
	uint64_t t0 = svc_mono_ms();

	assert_int_equal(svc_combine_linger(&f->c, &it, 50), 0);
	assert_true(svc_mono_ms() - t0 >= 50);
	assert_int_equal(f->runs, 1);
	assert_int_equal(f->sizes[0], 1);
	assert_int_equal(it.answer, 30);
}

struct linger_request {
	struct fake *f;
	struct item item;
	long linger_ms;
	int rc;
};

static void *linger_main(void *arg)
{
	struct linger_request *r = arg;

	r->rc = svc_combine_linger(&r->f->c, &r->item, r->linger_ms);
	return NULL;
}

/* Requests that come while a lone one lingers share its run, in arrival
 * order, and nobody runs before the linger is over. */
static void test_combine_linger_gathers_those_who_come_meanwhile(void **state)
{
	struct fake *f = *state;
	struct linger_request r[3];
	pthread_t t[3];

	for (int i = 0; i < 3; i++) {
		r[i] = (struct linger_request){.f = f, .item.id = i + 1, .linger_ms = i ? 0 : 1000};
		assert_int_equal(pthread_create(&t[i], NULL, linger_main, &r[i]), 0);
		assert_true(wait_for(waiting, f, (size_t)i + 1));
		assert_int_equal(runs_started(f), 0); /* the first still lingers */
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(f->runs, 1);
	assert_int_equal(f->sizes[0], 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->ids[0][i], i + 1);
		assert_int_equal(r[i].rc, 0);
		assert_int_equal(r[i].item.answer, (i + 1) * 10);
	}
}

/* Many threads at once, for the wake-ups: every request is answered by
 * exactly one run, runs never overlap, and nothing is left waiting. */
#define STRESS_THREADS  8
#define STRESS_REQUESTS 3000

struct stress {
	struct svc_combiner c;
	pthread_mutex_t mu;
	bool running;    /* under mu */
	bool overlapped; /* under mu */
	size_t handled;  /* under mu */
	size_t runs;     /* under mu */
};

static int stress_run(void *arg, void *const *items, size_t n)
{
	struct stress *s = arg;

	pthread_mutex_lock(&s->mu);
	if (s->running)
		s->overlapped = true;
	s->running = true;
	s->runs++;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < n; i++)
		((struct item *)items[i])->answer++;
	pthread_mutex_lock(&s->mu);
	s->handled += n;
	s->running = false;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

struct stress_thread {
	struct stress *s;
	struct item items[STRESS_REQUESTS];
	int failed; /* requests that did not return 0 */
};

static void *stress_main(void *arg)
{
	struct stress_thread *t = arg;

	for (int i = 0; i < STRESS_REQUESTS; i++) {
		/* now and then a lingering one, as a quiet order service does */
		long linger = i % 500 == 0 ? 1 : 0;

		if (svc_combine_linger(&t->s->c, &t->items[i], linger) != 0)
			t->failed++;
	}
	return NULL;
}

static void test_combine_many_threads_answer_each_request_once(void **state)
{
	static struct stress_thread th[STRESS_THREADS];
	struct stress s;
	pthread_t t[STRESS_THREADS];
	size_t wrong = 0;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(th, 0, sizeof(th));
	assert_int_equal(pthread_mutex_init(&s.mu, NULL), 0);
	assert_int_equal(svc_combiner_init(&s.c, stress_run, &s), 0);
	for (int i = 0; i < STRESS_THREADS; i++) {
		th[i].s = &s;
		assert_int_equal(pthread_create(&t[i], NULL, stress_main, &th[i]), 0);
	}
	for (int i = 0; i < STRESS_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < STRESS_THREADS; i++) {
		assert_int_equal(th[i].failed, 0);
		for (int j = 0; j < STRESS_REQUESTS; j++)
			wrong += th[i].items[j].answer != 1;
	}
	assert_int_equal(wrong, 0);
	assert_false(s.overlapped);
	assert_int_equal(s.handled, (size_t)STRESS_THREADS * STRESS_REQUESTS);
	assert_true(s.runs >= 1 && s.runs <= s.handled);
	assert_int_equal(svc_combiner_waiting(&s.c), 0);
	svc_combiner_release(&s.c);
	pthread_mutex_destroy(&s.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_combine_lone_request_runs_at_once, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_combine_requests_during_a_run_share_the_next,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_combine_hands_items_over_in_arrival_order,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_combine_failure_reaches_every_request, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_combine_linger_alone_runs_alone_after_the_linger, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_combine_linger_gathers_those_who_come_meanwhile, setup, teardown),
	        cmocka_unit_test(test_combine_many_threads_answer_each_request_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
