-- The inbox is only ever read by event_id (its primary key): the duplicate
-- check of every delivery. No query used the processed_at index, and every
-- claim paid for one more B-tree insert (nine per order). A retention job,
-- should one be added, deletes in primary-key chunks.
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE processed_messages DROP INDEX ix_processed_messages_processed_at;
