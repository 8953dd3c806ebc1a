-- Reservations are only ever read by order_id; every status change
-- (placeholder -> RESERVED -> COMMITTED or RELEASED) also moved the row in
-- this unused index.
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE order_reservations DROP INDEX ix_order_reservations_status;
