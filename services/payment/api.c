/*
 * Payment HTTP handlers (api.h).
 */
#include "services/payment/api.h"

#include <stdio.h>

#include "services/payment/process.h"
#include "services/payment/reconcile.h"
#include "svc/auth.h"
#include "svc/error.h"
#include "svc/event.h"
#include "svc/service.h"

/* Money moves only inside the saga: a payment is made for an order's total
 * when its stock is reserved, never by hand. */
static void handle_gone(void *ctxp, const struct svc_http_request *req,
                        struct svc_http_response *res)
{
	(void)ctxp, (void)req;
	svc_http_reply_problem(res, 410, "Gone", NULL,
	                       "payments are a step of the order saga (POST /api/orders); read "
	                       "them with GET /api/payments/{orderId}");
}

static void handle_get(void *ctxp, const struct svc_http_request *req,
                       struct svc_http_response *res)
{
	struct svc_ctx *ctx = ctxp;
	const char *order_id = req->params[0];
	struct pay_row row;

	if (!svc_uuid_valid(order_id)) {
		svc_http_reply_problem(res, 400, "Invalid orderId", "orderId",
		                       "orderId must be a UUID");
		return;
	}
	if (pay_row_fetch(ctx, order_id, &row)) {
		svc_http_reply_problem(res, 503, "Database unavailable", NULL, "retry later");
		return;
	}
	/* Someone else's payment is answered as if absent; one without a known
	 * payer only to admins. */
	if (row.status == PAY_NONE ||
	    !svc_principal_owns(req->principal, row.user_id[0] ? row.user_id : NULL)) {
		svc_http_reply_problem(res, 404, "Payment not found", NULL,
		                       "no payment for order %s", order_id);
		return;
	}
	svc_http_reply_json(res, 200, pay_row_json(&row));
}

static void handle_reconciliation(void *ctxp, const struct svc_http_request *req,
                                  struct svc_http_response *res)
{
	struct svc_ctx *ctx = ctxp;
	json_t *doc = NULL;
	int rc;

	(void)req;
	rc = pay_reconcile_report(ctx, PAY_RECONCILE_LIST_MAX, &doc);
	if (rc != 0) {
		svc_http_reply_error(res, rc, "the reconciliation");
		return;
	}
	svc_http_reply_json(res, 200, doc);
}

/* First match wins: the literal path before {orderId}. */
const struct svc_http_route pay_routes[] = {
        {"POST", "/api/payments", handle_gone, SVC_HTTP_PUBLIC},
        {"GET", "/api/payments/reconciliation", handle_reconciliation, SVC_HTTP_ADMIN},
        {"GET", "/api/payments/{orderId}", handle_get, SVC_HTTP_CUSTOMER},
};
const size_t pay_nroutes = sizeof(pay_routes) / sizeof(pay_routes[0]);
