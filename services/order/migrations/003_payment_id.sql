-- The payment the saga asked for: ProcessPayment names it and Payment charges
-- under it, so only a PaymentCompleted for it confirms the order, and once
-- confirmed, a capture under any other id is refused instead of refunded
-- (a refund would take back the order's one payment). NULL until the order
-- asks for its payment, and for orders that asked before this column.
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE orders ADD COLUMN payment_id CHAR(36) CHARACTER SET ascii NULL;
