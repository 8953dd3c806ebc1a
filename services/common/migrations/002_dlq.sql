-- Dead-letter re-drive bookkeeping (resilience/sidecar/dlq_admin.h).
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.

-- One row per DLQ entry the sidecar re-drove to its source topic. The row is
-- inserted in the same transaction that waits for the re-driven copy's
-- acknowledgement, so an entry is listed as re-driven only once Kafka has
-- it, and two concurrent re-drives of one entry send it once.
CREATE TABLE IF NOT EXISTS dlq_redrives (
	dlq_topic     VARCHAR(249) CHARACTER SET ascii NOT NULL,
	dlq_partition INT NOT NULL,
	dlq_offset    BIGINT NOT NULL,
	source_topic  VARCHAR(249) NOT NULL,
	event_id      VARCHAR(64) NOT NULL DEFAULT '',
	redriven_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
