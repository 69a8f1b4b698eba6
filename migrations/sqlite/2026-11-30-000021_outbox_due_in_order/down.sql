CREATE INDEX outbox_due ON outbox (sent_at, failed_at, next_attempt_at);
DROP INDEX outbox_sent;
DROP INDEX outbox_failed;
DROP INDEX outbox_pending;
