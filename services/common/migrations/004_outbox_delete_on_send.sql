-- The relay deletes a row once Kafka acknowledged it (resilience/sidecar/
-- relay.c), so every row in the table is unsent: the relay's scan walks the
-- primary key, and a row costs one insert and one delete. Before, a row cost
-- three B-tree inserts (primary key, event_id, (sent_at, id)), an update that
-- moved it in the (sent_at, id) index, and three deletes at the end of its
-- retention. Kafka keeps the sent events. event_id was unique only as a
-- safeguard: the service generates it (a fresh UUID) and nothing looks it up.
-- Rows already sent go first; rows not yet sent stay and are relayed.
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
DELETE FROM outbox_messages WHERE sent_at IS NOT NULL;
ALTER TABLE outbox_messages
	DROP INDEX uq_outbox_messages_event_id,
	DROP INDEX ix_outbox_messages_sent_at_id,
	DROP COLUMN sent_at;
