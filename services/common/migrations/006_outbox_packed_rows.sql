-- One outbox row per transaction instead of one per event (svc/outbox.h,
-- svc/outbox_pack.h): `messages` says how many events a row holds. A row
-- with 1 is a plain row, its columns the event (every row written before
-- this migration); a row with N > 1 carries the N events, packed, in its
-- payload, and its other columns are the first event's. The relay
-- (resilience/sidecar/relay.c) reads both. An order's seven events cost
-- a few rows instead of seven: fewer inserts, selects and deletes.
-- Adding a column with a default at the end is an in-place change.
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE outbox_messages
	ADD COLUMN messages INT NOT NULL DEFAULT 1;
