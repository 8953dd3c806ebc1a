/*
 * Inventory HTTP handlers (api.h). GETs read the cache first and fall back
 * to the database (populating the cache); the bulk GET does each in one
 * round trip for all its products. PUT writes the database and then
 * caches the row it re-read, version-guarded like every cache write.
 */
#include "services/inventory/api.h"

#include <stdlib.h>
#include <string.h>

#include "services/inventory/batch.h"
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

static void reply_unavailable(struct svc_http_response *res)
{
	svc_http_reply_problem(res, 503, "Inventory unavailable", NULL,
	                       "the database cannot be reached; retry");
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
		reply_unavailable(res);
		return;
	}
	inv_cache_store(ctx, &p);
	svc_http_add_header(res, "X-Cache", "miss");
	svc_http_reply_json(res, 200, product_json(&p));
}

/*
 * Adds the ids of the query parameter ids="P1,P2,..." to the batch (each
 * distinct one once). False, with the 400 answered, unless it holds 1 to
 * INV_BULK_MAX valid ids (repeats count).
 */
static bool parse_ids(const char *list, struct inv_batch *b, struct svc_http_response *res)
{
	char id[INV_PRODUCT_ID_MAX + 1];
	const char *at = list ? list : "", *comma;
	size_t count = 0;

	if (*at == '\0') {
		svc_http_reply_problem(res, 400, "Invalid ids", "ids",
		                       "ids must name 1 to %d products, comma separated",
		                       INV_BULK_MAX);
		return false;
	}
	for (;; at = comma + 1) {
		size_t len;

		comma = strchr(at, ',');
		len = comma ? (size_t)(comma - at) : strlen(at);
		if (++count > INV_BULK_MAX) {
			svc_http_reply_problem(res, 400, "Invalid ids", "ids",
			                       "ids names at most %d products", INV_BULK_MAX);
			return false;
		}
		if (len < sizeof(id)) {
			memcpy(id, at, len);
			id[len] = '\0';
		}
		if (len >= sizeof(id) || !svc_id_valid(id)) {
			svc_http_reply_problem(
			        res, 400, "Invalid ids", "ids",
			        "ids[%zu] must be 1-%d characters of A-Z a-z 0-9 . _ : @ -",
			        count - 1, INV_PRODUCT_ID_MAX);
			return false;
		}
		if (inv_batch_want_product(b, id) != 0) {
			svc_http_reply_problem(res, 500, NULL, NULL, "out of memory");
			return false;
		}
		if (!comma)
			return true;
	}
}

/* Fills from the database the batch's products the cache did not have,
 * then caches those found. 0, SVC_ETRANSIENT or SVC_ENOMEM. */
static int read_misses(struct svc_ctx *ctx, struct inv_batch *b)
{
	const struct inv_product **read = NULL;
	size_t i, nread = 0, nmiss = 0;
	MYSQL *conn = NULL;
	int rc;

	for (i = 0; i < b->nproducts; i++)
		nmiss += !b->products[i].p.c.found;
	if (nmiss == 0)
		return 0;
	read = calloc(nmiss, sizeof(*read));
	if (!read)
		return SVC_ENOMEM;
	for (i = 0; i < b->nproducts; i++)
		if (!b->products[i].p.c.found)
			read[nread++] = &b->products[i].p;
	conn = svc_db_acquire(ctx->db);
	rc = conn ? inv_stock_read_products(conn, b) : SVC_ETRANSIENT;
	if (conn)
		svc_db_release(ctx->db, conn, rc == SVC_ETRANSIENT);
	if (rc == 0) {
		/* keep those the database knows: they go to the cache */
		for (i = 0, nmiss = 0; i < nread; i++)
			if (read[i]->c.found)
				read[nmiss++] = read[i];
		inv_cache_store_many(ctx, read, nmiss);
	}
	free(read);
	return rc;
}

/* {"products":[<product_json>...], "missing":[id...]} of the batch. */
static json_t *list_json(const struct inv_batch *b)
{
	json_t *products = json_array(), *missing = json_array();

	for (size_t i = 0; products && missing && i < b->nproducts; i++) {
		const struct inv_product *p = &b->products[i].p;

		if (p->c.found)
			json_array_append_new(products, product_json(p));
		else
			json_array_append_new(missing, json_string(p->product_id));
	}
	return json_pack("{s:o, s:o}", "products", products, "missing", missing);
}

/* GET /api/inventory?ids=P1,P2,...: many products in one cache round trip
 * and at most one SELECT. */
static void handle_list(void *ctxp, const struct svc_http_request *req,
                        struct svc_http_response *res)
{
	struct svc_ctx *ctx = ctxp;
	struct inv_product **ps = NULL;
	struct inv_batch b;
	json_t *doc;
	int rc;

	inv_batch_init(&b);
	if (!parse_ids(svc_http_query(req, "ids"), &b, res))
		goto release_batch;
	ps = calloc(b.nproducts, sizeof(*ps));
	if (!ps)
		goto oom;
	for (size_t i = 0; i < b.nproducts; i++)
		ps[i] = &b.products[i].p; /* stable: no more ids are added */
	inv_cache_load_many(ctx, ps, b.nproducts);
	rc = read_misses(ctx, &b);
	if (rc == SVC_ENOMEM)
		goto oom;
	if (rc) {
		reply_unavailable(res);
		goto release_batch;
	}
	doc = list_json(&b);
	if (!doc)
		goto oom;
	svc_http_reply_json(res, 200, doc);
	goto release_batch;
oom:
	svc_http_reply_problem(res, 500, NULL, NULL, "out of memory");
release_batch:
	free(ps);
	inv_batch_release(&b);
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
        {"GET", "/api/inventory", handle_list, SVC_HTTP_PUBLIC},
        {"GET", "/api/inventory/{productId}", handle_get, SVC_HTTP_PUBLIC},
        {"PUT", "/api/inventory/{productId}", handle_put, SVC_HTTP_ADMIN},
};
const size_t inv_nroutes = sizeof(inv_routes) / sizeof(inv_routes[0]);
