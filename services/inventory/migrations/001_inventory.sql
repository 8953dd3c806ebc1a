-- Inventory tables. Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11.
-- Binary collation: product ids compare byte-wise, the same order the
-- service sorts them in before locking rows (no deadlocks between orders).

-- Stock per product. Invariant: available + reserved + sold equals the stock
-- set by the last PUT plus what was reserved/sold before it; no count is ever
-- negative (the service checks every move). version increases on every
-- change and guards the Redis cache.
CREATE TABLE IF NOT EXISTS products (
	product_id VARCHAR(64) NOT NULL,
	name       VARCHAR(255) NOT NULL,
	price      BIGINT NOT NULL,
	available  INT NOT NULL DEFAULT 0,
	reserved   INT NOT NULL DEFAULT 0,
	sold       INT NOT NULL DEFAULT 0,
	version    BIGINT NOT NULL DEFAULT 1,
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per order that reached Inventory: RESERVED | SHORTAGE | RELEASED |
-- COMMITTED. A RELEASED row without lines is a tombstone: the release came
-- first, so a late OrderCreated is refused.
CREATE TABLE IF NOT EXISTS order_reservations (
	order_id   CHAR(36) CHARACTER SET ascii NOT NULL,
	status     VARCHAR(16) NOT NULL,
	reason     VARCHAR(255) NULL,
	created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (order_id),
	KEY ix_order_reservations_status (status, updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The lines of a reservation, at the inventory's price when reserved.
CREATE TABLE IF NOT EXISTS stock_reservations (
	order_id   CHAR(36) CHARACTER SET ascii NOT NULL,
	product_id VARCHAR(64) NOT NULL,
	quantity   INT NOT NULL,
	unit_price BIGINT NOT NULL,
	PRIMARY KEY (order_id, product_id),
	KEY ix_stock_reservations_product (product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
