-- Notification service schema. Accepted by MySQL 8.0 and MariaDB 10.11.

-- Where to reach a customer; seeded by the data generator. A user without a
-- row (or without an e-mail) gets "<userId>@customers.invalid".
CREATE TABLE IF NOT EXISTS contacts (
  user_id VARCHAR(64) NOT NULL,
  email   VARCHAR(254) NULL,
  phone   VARCHAR(32) NULL,
  PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per notification, sent or failed for good. event_id is the order
-- event it answers (NULL for a manual send); UNIQUE so one event never gives
-- two records.
CREATE TABLE IF NOT EXISTS notifications (
  notification_id CHAR(36) NOT NULL,
  order_id        CHAR(36) NULL,
  event_id        CHAR(36) NULL,
  kind            VARCHAR(32) NOT NULL,
  channel         VARCHAR(16) NOT NULL,
  recipient       VARCHAR(254) NOT NULL,
  subject         VARCHAR(255) NOT NULL,
  body            TEXT NOT NULL,
  status          VARCHAR(8) NOT NULL,
  error           VARCHAR(255) NULL,
  created_at      DATETIME(3) NOT NULL,
  PRIMARY KEY (notification_id),
  UNIQUE KEY uq_notifications_event (event_id),
  KEY idx_notifications_order (order_id, created_at),
  KEY idx_notifications_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
