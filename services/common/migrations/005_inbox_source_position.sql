-- Where each processed event was read: its partition and offset in the topic
-- (the sidecar's delivery carries both), so an order's journey names the
-- exact message behind every transition (services/console). NULL for the
-- events claimed before this migration. PARTITION is a reserved word, hence
-- the kafka_ prefix. Adding nullable columns at the end is an in-place change.
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE processed_messages
	ADD COLUMN kafka_partition INT NULL,
	ADD COLUMN kafka_offset BIGINT NULL;
