-- Every notification belongs to a user: the one the order event names, or
-- the userId of a manual send. A customer reads its own notifications only
-- (WHERE user_id = <token subject>, newest first: the index below); rows from
-- before this migration have none and are shown to admins only.
-- Binary collation: ownership is an exact match of the token's subject, as
-- svc_principal_owns() compares it; "U-1" does not read the rows of "u-1".
-- Portable SQL: accepted by MySQL 8.0 and MariaDB 10.11 alike.
ALTER TABLE notifications
	ADD COLUMN user_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL
		AFTER order_id,
	ADD KEY idx_notifications_user (user_id, created_at);
