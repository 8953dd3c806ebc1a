-- Reconciliation (services/payment/store.h, docs/architecture.md): how each
-- order ended, as order.events told (OrderConfirmed / OrderCancelled), and,
-- per payment, since when it is a capture its order has not confirmed.
-- A capture sets unconfirmed_since; OrderConfirmed and a refund clear it. So
-- the index holds the captures in flight and those that must not stay (on a
-- cancelled order, or on an order that never told its outcome), and the
-- reconciliation reads only those. Captures made before this migration are
-- not watched: their orders' outcomes were never recorded here.
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE payments
	ADD COLUMN unconfirmed_since DATETIME(3) NULL,
	ADD KEY ix_payments_unconfirmed (unconfirmed_since);

CREATE TABLE IF NOT EXISTS order_outcomes (
	order_id CHAR(36) CHARACTER SET ascii NOT NULL,
	status   VARCHAR(16) NOT NULL,
	at       DATETIME(3) NOT NULL,
	PRIMARY KEY (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
