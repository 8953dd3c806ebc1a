/*
 * Inventory HTTP handlers (api.h). GET reads the cache first and falls back
 * to the database (populating the cache); PUT writes the database and then
 * caches the row it re-read, version-guarded like every cache write.
 */
#include "services/inventory/api.h"

#include <string.h>

#include "services/inventory/cache.h"
#include "services/inventory/request.h"
#include "services/inventory/stock.h"
#include "svc/db.h"
#include "svc/error.h"
#include "svc/log.h"
#include "svc/service.h"

static json_t *product_json(const struct inv_product *p)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "productId", p->product_id, "name",
	                 p->name, "available", (json_int_t)p->c.available, "reserved",
	                 (json_int_t)p->c.reserved, "sold", (json_int_t)p->c.sold, "price",
	                 (json_int_t)p->c.price);
}

/* Reads the product from the database. 0, SVC_ENOTFOUND or SVC_ETRANSIENT. */
static int db_get(struct svc_ctx *ctx, const char *product_id, struct inv_product *p)
{
	MYSQL *conn = svc_db_acquire(ctx->db);
	int rc;

	if (!conn)
		return SVC_ETRANSIENT;
	rc = inv_product_get(conn, product_id, p);
	svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	return rc;
}

static bool check_id(const char *id, struct svc_http_response *res)
{
	if (svc_id_valid(id))
		return true;
	svc_http_reply_problem(res, 400, "Invalid productId", "productId",
	                       "productId must be 1-%d characters of A-Z a-z 0-9 . _ : @ -",
	                       INV_PRODUCT_ID_MAX);
	return false;
}

static void handle_get(void *ctxp, const struct svc_http_request *req,
                       struct svc_http_response *res)
{
	struct svc_ctx *ctx = ctxp;
	const char *id = req->params[0];
	struct inv_product p;
	int rc;

	if (!check_id(id, res))
		return;
	if (inv_cache_load(ctx, id, &p) == 0) {
		svc_http_add_header(res, "X-Cache", "hit");
		svc_http_reply_json(res, 200, product_json(&p));
		return;
	}
	rc = db_get(ctx, id, &p);
	if (rc == SVC_ENOTFOUND) {
		svc_http_reply_problem(res, 404, "Product not found", "productId", "no product %s",
		                       id);
		return;
	}
	if (rc) {
		svc_http_reply_problem(res, 503, "Inventory unavailable", NULL,
		                       "the database cannot be reached; retry");
		return;
	}
	inv_cache_store(ctx, &p);
	svc_http_add_header(res, "X-Cache", "miss");
	svc_http_reply_json(res, 200, product_json(&p));
}

static void handle_put(void *ctxp, const struct svc_http_request *req,
                       struct svc_http_response *res)
{
	struct svc_ctx *ctx = ctxp;
	const char *id = req->params[0];
	json_t *body = NULL;
	struct inv_put_request put;
	struct svc_problem problem;
	struct inv_product p;
	MYSQL *conn = NULL;
	int rc;

	if (!check_id(id, res) || !(body = svc_http_parse_json(req, res)))
		goto out;
	if (inv_put_request_parse(body, &put, &problem)) {
		svc_http_reply_problem(res, problem.status,
		                       problem.status == 400 ? "Invalid request" : "Invalid value",
		                       problem.field, "%s", problem.detail);
		goto out;
	}
	conn = svc_db_acquire(ctx->db);
	rc = conn ? inv_product_put(conn, id, put.available, put.price, put.name) : SVC_ETRANSIENT;
	if (!rc)
		rc = inv_product_get(conn, id, &p);
	if (conn)
		svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	if (rc) {
		svc_http_reply_problem(res, 503, "Inventory unavailable", NULL,
		                       "cannot write the product (%s); retry", svc_strerror(rc));
		goto out;
	}
	inv_cache_store(ctx, &p);
	svc_info("product %s set: available %lld, price %lld (version %lld)", id,
	         (long long)put.available, (long long)put.price, (long long)p.c.version);
	svc_http_reply_json(res, 200, product_json(&p));
out:
	json_decref(body);
}

const struct svc_http_route inv_routes[] = {
        {"GET", "/api/inventory/{productId}", handle_get},
        {"PUT", "/api/inventory/{productId}", handle_put},
};
const size_t inv_nroutes = sizeof(inv_routes) / sizeof(inv_routes[0]);
