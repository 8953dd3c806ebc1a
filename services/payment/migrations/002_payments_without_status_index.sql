-- No query reads payments by status (they are read by order_id and by
-- payment_id), yet every status change moved the row in this index.
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE payments DROP INDEX ix_payments_status;
