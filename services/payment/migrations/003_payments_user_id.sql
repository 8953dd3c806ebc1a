-- Who pays: ProcessPayment's userId. GET /api/payments/{orderId} shows a
-- payment to its payer (and to admins); a row without one (made before this
-- column) only to admins. Portable SQL: MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE payments ADD COLUMN user_id VARCHAR(64) NULL;
