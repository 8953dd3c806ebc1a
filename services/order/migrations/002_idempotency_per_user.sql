-- Idempotency-Keys belong to the user who ordered: the same key from two
-- users makes two orders, and one user never learns of another's order.
ALTER TABLE orders
	DROP INDEX uq_orders_idempotency_key,
	ADD UNIQUE KEY uq_orders_user_idempotency_key (user_id, idempotency_key);
