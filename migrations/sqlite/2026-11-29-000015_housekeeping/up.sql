-- The housekeeping job's claim: one row per job, claimed by a conditional update of `claim_token` and
-- `started_at`, so one instance does each run; the next run is due `run_interval_secs` after `started_at`.
CREATE TABLE housekeeping_runs (
    job TEXT NOT NULL PRIMARY KEY,
    claim_token TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);

INSERT INTO housekeeping_runs (job, claim_token, started_at, finished_at)
VALUES ('housekeeping', '', '2000-01-01 00:00:00', '2000-01-01 00:00:00');

-- What each retention deletes by.
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX one_time_tokens_expires_at ON one_time_tokens (expires_at);
CREATE INDEX throttles_window_started_at ON throttles (window_started_at);
CREATE INDEX idempotency_keys_claimed_at ON idempotency_keys (claimed_at);
CREATE INDEX spent_refresh_tokens_session ON spent_refresh_tokens (session_id);
