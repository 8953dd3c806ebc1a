/*
 * Inventory's consumer of order.events (OrderCreated, OrderConfirmed,
 * OrderCancelled) and inventory.commands (ReleaseInventory).
 */
#ifndef INV_CONSUMER_H
#define INV_CONSUMER_H

#include "svc/consumer.h"

extern const struct svc_consumer_ops inv_consumer_ops;

#endif
