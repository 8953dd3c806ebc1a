/*
 * inventory-service: reserves, releases and sells stock for the order saga
 * and serves stock levels from a Redis cache over the database.
 */
#include "services/inventory/api.h"
#include "services/inventory/consumer.h"
#include "svc/service.h"

int main(void)
{
	const struct svc_service inventory_service = {
	        .name = "inventory",
	        .source = "inventory-service",
	        .default_port = 8083,
	        .routes = inv_routes,
	        .nroutes = inv_nroutes,
	        .consumer = &inv_consumer_ops,
	};

	return svc_run(&inventory_service, NULL);
}
