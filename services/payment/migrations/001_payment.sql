-- Payment table. Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11.
-- One row per order (primary key), so an order is captured at most once.
-- status: REQUESTED | CAPTURED | DECLINED | REFUNDED | VOIDED. A VOIDED row
-- with amount 0 is a tombstone left by a RefundPayment that came before any
-- ProcessPayment; a later ProcessPayment then fails.
CREATE TABLE IF NOT EXISTS payments (
	order_id        CHAR(36) CHARACTER SET ascii NOT NULL,
	payment_id      CHAR(36) CHARACTER SET ascii NOT NULL,
	amount          BIGINT NOT NULL,
	currency        CHAR(3) NOT NULL,
	status          VARCHAR(16) NOT NULL,
	gateway_ref     VARCHAR(64) NULL,
	reason          VARCHAR(255) NULL,
	refunded_amount BIGINT NOT NULL DEFAULT 0,
	created_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (order_id),
	UNIQUE KEY uq_payments_payment_id (payment_id),
	KEY ix_payments_status (status, updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
