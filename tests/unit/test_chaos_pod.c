/* Unit tests of chaos/pod.h: pods read from the API's JSON, victims chosen, recovery judged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/pod.h"
#include "svc/error.h"

/* two order pods (b Ready, a Ready with its sidecar restarted once), one
 * terminating, one not Ready; a's killer ephemeral container ended */
static const char pod_list[] =
        "{\"kind\":\"PodList\",\"items\":["
        "{\"metadata\":{\"name\":\"saga-order-b\",\"uid\":\"u-b\"},"
        " \"spec\":{\"containers\":[{\"name\":\"order\",\"env\":["
        "   {\"name\":\"SAGA_STEP_TIMEOUT_MS\",\"value\":\"15000\"},"
        "   {\"name\":\"JWT_SECRET\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"x\"}}},"
        "   {\"name\":\"SAGA_SCAN_MS\",\"value\":\"soon\"}]}]},"
        " \"status\":{\"podIP\":\"10.244.0.7\",\"conditions\":["
        "   "
        "{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"True\"}],"
        "  "
        "\"initContainerStatuses\":[{\"name\":\"create-topics\",\"ready\":false,\"restartCount\":0,"
        "    \"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}},"
        "   {\"name\":\"sidecar\",\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}}],"
        "  \"containerStatuses\":[{\"name\":\"order\",\"ready\":true,\"restartCount\":0,"
        "    \"state\":{\"running\":{}}}]}},"
        "{\"metadata\":{\"name\":\"saga-order-a\",\"uid\":\"u-a\"},"
        " \"status\":{\"podIP\":\"10.244.0.5\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
        "\"True\"}],"
        "  \"initContainerStatuses\":[{\"name\":\"sidecar\",\"ready\":true,\"restartCount\":1,"
        "    \"state\":{\"running\":{}},\"lastState\":{\"terminated\":{\"exitCode\":137,"
        "    \"signal\":9,\"reason\":\"Error\"}}}],"
        "  \"containerStatuses\":[{\"name\":\"order\",\"ready\":true,\"restartCount\":0,"
        "    \"state\":{\"running\":{}}}],"
        "  \"ephemeralContainerStatuses\":[{\"name\":\"chaos-kill-1-abcd\",\"ready\":false,"
        "    \"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":137,\"reason\":\"Error\","
        "    \"message\":\"SIGKILL to PID 1 (sidecar)\"}}}]}},"
        "{\"metadata\":{\"name\":\"saga-order-c\",\"uid\":\"u-c\","
        "  \"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
        " \"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
        "{\"metadata\":{\"name\":\"saga-order-d\",\"uid\":\"u-d\"},"
        " \"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}},"
        "{\"metadata\":{\"name\":\"no-uid\"}}"
        "]}";

static json_t *doc;
static struct chaos_pod *pods;
static size_t npods;

static int setup(void **state)
{
	(void)state;
	doc = json_loads(pod_list, 0, NULL);
	if (!doc || chaos_pod_list_parse(doc, &pods, &npods) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(pods);
	json_decref(doc);
	return 0;
}

static void test_chaos_pod_list_is_read_and_sorted_by_name(void **state)
{
	const struct chaos_container_status *c;

	(void)state;
	assert_int_equal(npods, 4); /* the one without a uid is left out */
	assert_string_equal(pods[0].name, "saga-order-a");
	assert_string_equal(pods[1].name, "saga-order-b");
	assert_true(pods[0].ready);
	assert_false(pods[0].terminating);
	assert_string_equal(pods[0].ip, "10.244.0.5");
	assert_true(pods[2].terminating);
	assert_false(pods[3].ready);
	c = chaos_pod_container(&pods[0], "sidecar");
	assert_non_null(c);
	assert_int_equal(c->restarts, 1);
	assert_int_equal(c->exit_code, 137);
	assert_int_equal(c->signal, 9);
	assert_true(c->running);
	assert_null(
	        chaos_pod_container(&pods[0], "chaos-kill-1-abcd")); /* ephemeral: not a target */
	assert_int_equal(pods[0].ncontainers, 3);
	assert_true(pods[0].containers[2].ephemeral);
	assert_string_equal(pods[0].containers[2].message, "SIGKILL to PID 1 (sidecar)");
	c = chaos_pod_container(&pods[1], "create-topics");
	assert_int_equal(c->exit_code, 0);
	assert_string_equal(c->reason, "Completed");
	assert_int_equal(chaos_pods_ready(pods, npods), 2);
}

static void test_chaos_pod_list_refuses_a_document_without_items(void **state)
{
	json_t *bad = json_pack("{s:s}", "kind", "Status");
	struct chaos_pod *p = NULL;
	size_t n = 7;

	(void)state;
	assert_int_equal(chaos_pod_list_parse(bad, &p, &n), SVC_EPERMANENT);
	assert_null(p);
	assert_int_equal(n, 0);
	json_decref(bad);
}

static void test_chaos_pods_pick_ready_ones_first_and_never_itself(void **state)
{
	size_t picked[CHAOS_KILL_PODS];

	(void)state;
	assert_int_equal(chaos_pods_pick(pods, npods, CHAOS_MODE_ONE, 0, 0, NULL, picked), 1);
	assert_int_equal(picked[0], 0);
	assert_int_equal(chaos_pods_pick(pods, npods, CHAOS_MODE_ONE, 0, 1, NULL, picked), 1);
	assert_int_equal(picked[0], 1);
	assert_int_equal(chaos_pods_pick(pods, npods, CHAOS_MODE_ALL, 0, 5, NULL, picked), 2);
	assert_true((picked[0] == 0 && picked[1] == 1) || (picked[0] == 1 && picked[1] == 0));
	/* 50 % of two is one; 51 % rounds up to two; 1 % is still one */
	assert_int_equal(chaos_pods_pick(pods, npods, CHAOS_MODE_PERCENT, 50, 0, NULL, picked), 1);
	assert_int_equal(chaos_pods_pick(pods, npods, CHAOS_MODE_PERCENT, 51, 0, NULL, picked), 2);
	assert_int_equal(chaos_pods_pick(pods, npods, CHAOS_MODE_PERCENT, 1, 0, NULL, picked), 1);
	for (unsigned r = 0; r < 8; r++) {
		assert_int_equal(
		        chaos_pods_pick(pods, npods, CHAOS_MODE_ONE, 0, r, "saga-order-a", picked),
		        1);
		assert_int_equal(picked[0], 1);
	}
	/* none Ready: the one still starting, never the terminating one */
	assert_int_equal(chaos_pods_pick(pods + 2, 2, CHAOS_MODE_ALL, 0, 0, NULL, picked), 1);
	assert_int_equal(picked[0], 1);
	assert_int_equal(chaos_pods_pick(pods + 2, 1, CHAOS_MODE_ALL, 0, 0, NULL, picked), 0);
}

static void test_chaos_kill_of_a_pod_is_recovered_when_as_many_others_are_ready(void **state)
{
	struct chaos_kill k;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.npods = 1;
	memcpy(k.uids[0], "u-a", 4);
	k.ready_before = 2;
	/* only b is Ready besides the killed a */
	assert_false(chaos_kill_recovered(&k, NULL, pods, npods));
	k.ready_before = 1;
	assert_true(chaos_kill_recovered(&k, NULL, pods, npods));
	/* a terminating pod that still says Ready does not count */
	memcpy(k.uids[0], "u-b", 4);
	assert_false(chaos_kill_recovered(&k, NULL, pods + 1, 2));
	k.npods = 0;
	assert_false(chaos_kill_recovered(&k, NULL, pods, npods));
}

static void test_chaos_kill_of_a_container_needs_its_restart(void **state)
{
	struct chaos_kill k;
	char ended[64];

	(void)state;
	memset(&k, 0, sizeof(k));
	k.npods = 1;
	memcpy(k.uids[0], "u-a", 4);
	k.restarts_before[0] = 1; /* not restarted since */
	assert_false(chaos_kill_landed(&k, "sidecar", pods, npods));
	assert_false(chaos_kill_recovered(&k, "sidecar", pods, npods));
	k.restarts_before[0] = 0;
	assert_true(chaos_kill_landed(&k, "sidecar", pods, npods));
	assert_true(chaos_kill_recovered(&k, "sidecar", pods, npods));
	/* a container that is not running is down */
	memcpy(k.uids[0], "u-b", 4);
	assert_false(chaos_kill_landed(&k, "sidecar", pods, npods));
	assert_true(chaos_kill_landed(&k, "create-topics", pods, npods));
	assert_false(chaos_kill_recovered(&k, "no-such", pods, npods));
	memcpy(k.uids[0], "u-x", 4); /* the pod is gone */
	assert_true(chaos_kill_landed(&k, "sidecar", pods, npods));
	assert_false(chaos_kill_recovered(&k, "sidecar", pods, npods));
	chaos_container_ended(chaos_pod_container(&pods[0], "sidecar"), ended, sizeof(ended));
	assert_string_equal(ended, "exit 137, signal 9 (Error)");
	chaos_container_ended(chaos_pod_container(&pods[1], "create-topics"), ended, sizeof(ended));
	assert_string_equal(ended, "exit 0 (Completed)");
	chaos_container_ended(chaos_pod_container(&pods[1], "order"), ended, sizeof(ended));
	assert_string_equal(ended, "no termination recorded");
}

static void test_chaos_pod_env_reads_literal_numbers_only(void **state)
{
	const json_t *b = json_array_get(json_object_get(doc, "items"), 0);

	(void)state;
	assert_int_equal(chaos_pod_env_long(b, "order", "SAGA_STEP_TIMEOUT_MS", 1), 15000);
	assert_int_equal(chaos_pod_env_long(b, "order", "JWT_SECRET", 2), 2);
	assert_int_equal(chaos_pod_env_long(b, "order", "SAGA_SCAN_MS", 3), 3);
	assert_int_equal(chaos_pod_env_long(b, "order", "ABSENT", 4), 4);
	assert_int_equal(chaos_pod_env_long(b, "sidecar", "SAGA_STEP_TIMEOUT_MS", 5), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_chaos_pod_list_is_read_and_sorted_by_name),
	        cmocka_unit_test(test_chaos_pod_list_refuses_a_document_without_items),
	        cmocka_unit_test(test_chaos_pods_pick_ready_ones_first_and_never_itself),
	        cmocka_unit_test(
	                test_chaos_kill_of_a_pod_is_recovered_when_as_many_others_are_ready),
	        cmocka_unit_test(test_chaos_kill_of_a_container_needs_its_restart),
	        cmocka_unit_test(test_chaos_pod_env_reads_literal_numbers_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
