-- When a session was last used by the staff console: a console session idle for longer than
-- console.idle_timeout_mins is over.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;
