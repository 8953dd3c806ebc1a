-- Orders, their lines and the saga's history (services/order/store.c).
-- Times are UTC (UTC_TIMESTAMP(3)). Portable: MySQL 8.0 and MariaDB 10.11.
CREATE TABLE IF NOT EXISTS orders (
	order_id        CHAR(36) CHARACTER SET ascii NOT NULL,
	user_id         VARCHAR(64)  NOT NULL,
	status          VARCHAR(20)  NOT NULL,
	step            VARCHAR(32)  NOT NULL,
	step_deadline   DATETIME(3)  NULL,
	total_amount    BIGINT       NOT NULL,
	currency        CHAR(3)      NOT NULL,
	cancel_reason   VARCHAR(255) NULL,
	idempotency_key VARCHAR(128) NULL,
	request_hash    CHAR(64) CHARACTER SET ascii NULL,
	created_at      DATETIME(3)  NOT NULL,
	updated_at      DATETIME(3)  NOT NULL,
	PRIMARY KEY (order_id),
	UNIQUE KEY uq_orders_idempotency_key (idempotency_key),
	KEY ix_orders_status_deadline (status, step_deadline),
	KEY ix_orders_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS order_lines (
	order_id   CHAR(36) CHARACTER SET ascii NOT NULL,
	line_no    INT         NOT NULL,
	product_id VARCHAR(64) NOT NULL,
	quantity   INT         NOT NULL,
	unit_price BIGINT      NOT NULL,
	PRIMARY KEY (order_id, line_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS saga_transitions (
	id          BIGINT       NOT NULL AUTO_INCREMENT,
	order_id    CHAR(36) CHARACTER SET ascii NOT NULL,
	from_status VARCHAR(20)  NULL,
	to_status   VARCHAR(20)  NOT NULL,
	step        VARCHAR(32)  NOT NULL,
	event_type  VARCHAR(64)  NOT NULL,
	event_id    CHAR(36) CHARACTER SET ascii NULL,
	detail      VARCHAR(255) NULL,
	created_at  DATETIME(3)  NOT NULL,
	PRIMARY KEY (id),
	KEY ix_saga_transitions_order (order_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
