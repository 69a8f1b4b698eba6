DROP INDEX spent_refresh_tokens_session;
DROP INDEX idempotency_keys_claimed_at;
DROP INDEX throttles_window_started_at;
DROP INDEX one_time_tokens_expires_at;
DROP INDEX sessions_expires_at;
DROP TABLE housekeeping_runs;
