/* PUT /api/inventory/{productId} body validation (see request.h). */
#include "services/inventory/request.h"

#include <limits.h>
#include <string.h>

#include "svc/error.h"

/* Required member `name` as an integer in [0, max]. */
static int get_count(const json_t *body, const char *name, int64_t max, int64_t *out,
                     struct svc_problem *err)
{
	const json_t *v = json_object_get(body, name);

	if (!json_is_integer(v))
		return svc_problem_set(err, 400, name, "%s is required and must be an integer",
		                       name);
	if (json_integer_value(v) < 0 || json_integer_value(v) > max)
		return svc_problem_set(err, 422, name, "%s must be between 0 and %lld", name,
		                       (long long)max);
	*out = json_integer_value(v);
	return 0;
}

int inv_put_request_parse(const json_t *body, struct inv_put_request *out, struct svc_problem *err)
{
	const json_t *jname;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = get_count(body, "available", INT_MAX, &out->available, err);
	if (!rc)
		rc = get_count(body, "price", INT64_MAX / 1000000, &out->price, err);
	if (rc)
		return rc;
	jname = json_object_get(body, "name");
	if (jname && (!json_is_string(jname) || json_string_length(jname) == 0 ||
	              json_string_length(jname) > INV_NAME_MAX))
		return svc_problem_set(err, 422, "name", "name must be a string of 1-%d characters",
		                       INV_NAME_MAX);
	out->name = json_string_value(jname);
	return 0;
}
