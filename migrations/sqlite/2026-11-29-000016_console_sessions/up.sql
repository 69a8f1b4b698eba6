-- A session is the JSON API's (its secret a refresh token that rotates) or the staff console's (its secret
-- in a cookie, never exchanged for tokens); last_seen_at is when the console last used it: one idle for
-- longer than console.idle_timeout_mins is over.
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'console'));
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;
