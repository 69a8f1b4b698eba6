-- A session is one sign-in: the family of refresh tokens that rotate from it, and every access token
-- issued in it. Ending it (logout, password change, disabling the user) ends them all.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    refresh_token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE INDEX sessions_user_id ON sessions (user_id);
