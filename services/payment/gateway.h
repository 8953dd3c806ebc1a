/*
 * Calls to the payment gateway, always through the payment sidecar's egress
 * route "gateway" (timeouts, retries and the circuit breaker live there):
 *   POST {SIDECAR_URL}/egress/gateway/v1/charges  Idempotency-Key: <orderId>
 *   POST {SIDECAR_URL}/egress/gateway/v1/refunds  Idempotency-Key: refund-<orderId>
 * Both keys make a repeated call return the first answer, so a redelivered
 * command can call again safely.
 */
#ifndef PAY_GATEWAY_H
#define PAY_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "services/payment/state.h"

struct pay_gw_answer {
	enum pay_gw_result result;
	long http_status; /* 0 when no answer arrived */
	char ref[65];     /* charge or refund id on PAY_GW_OK */
	char reason[200]; /* decline reason, or what went wrong */
};

/* Charges `amount` for the order. Always fills `out`; returns 0. */
int pay_gateway_charge(const char *sidecar_url, const char *order_id, int64_t amount,
                       const char *currency, struct pay_gw_answer *out);
/* One charge of pay_gateway_charge_many. */
struct pay_charge {
	const char *order_id; /* also the Idempotency-Key */
	int64_t amount;
	const char *currency;
	struct pay_gw_answer out;
};

/*
 * The charges in one call to the sidecar (POST /egress-batch/gateway, at
 * most SVC_EGRESS_BATCH_MAX), each answered in its `out` as
 * pay_gateway_charge would have. When the sidecar refuses the batch itself
 * (an older one without /egress-batch), each goes alone. Returns 0.
 */
int pay_gateway_charge_many(const char *sidecar_url, struct pay_charge *const *charges, size_t n);

/* Refunds `amount` of charge `charge_id`. Always fills `out`; returns 0. */
int pay_gateway_refund(const char *sidecar_url, const char *order_id, const char *charge_id,
                       int64_t amount, struct pay_gw_answer *out);

#endif
