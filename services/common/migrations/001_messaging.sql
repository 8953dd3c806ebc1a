-- Messaging tables every service database has (svc/outbox.h, svc/consumer.h).
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.

-- Transactional outbox: rows are written in the same transaction as the state
-- change and relayed to Kafka by the sidecar, which sets sent_at once the
-- broker acknowledged. The relay selects "sent_at IS NULL ORDER BY id" and the
-- retention job deletes by sent_at age: both use (sent_at, id).
CREATE TABLE IF NOT EXISTS outbox_messages (
	id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	event_id   CHAR(36) CHARACTER SET ascii NOT NULL,
	topic      VARCHAR(249) NOT NULL,
	msg_key    VARCHAR(255) NOT NULL,
	event_type VARCHAR(64) NOT NULL,
	payload    MEDIUMTEXT NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	sent_at    DATETIME(6) NULL DEFAULT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY uq_outbox_messages_event_id (event_id),
	KEY ix_outbox_messages_sent_at_id (sent_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Inbox: the ids of events already handled, claimed in the same transaction
-- as their effect, so a redelivered event has no second effect.
-- (003 drops the processed_at index: nothing reads it.)
CREATE TABLE IF NOT EXISTS processed_messages (
	event_id     CHAR(36) CHARACTER SET ascii NOT NULL,
	event_type   VARCHAR(64) NOT NULL,
	topic        VARCHAR(249) NOT NULL,
	processed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (event_id),
	KEY ix_processed_messages_processed_at (processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
