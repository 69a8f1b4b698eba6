-- A second factor for sign-in (TOTP, RFC 6238). `users.mfa_enabled` says whether the user has confirmed
-- one; every signed-in request reads it with the session.
ALTER TABLE users ADD COLUMN mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE;

-- A user's TOTP secret, sealed (AES-256-GCM, see crypto.rs): pending until confirmed with a code.
-- `last_used_step` is the last time step whose code was accepted; a code is accepted only for a later step,
-- by one conditional update, so a code works once even when two requests race with it.
CREATE TABLE user_totp (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    secret TEXT NOT NULL,
    confirmed_at TIMESTAMP,
    last_used_step BIGINT,
    created_at TIMESTAMP NOT NULL
);

-- Single-use recovery codes, kept only as a SHA-256 digest (each has 120 random bits).
CREATE TABLE mfa_recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (user_id);

-- The second step of a sign-in: a right password gives an `mfa_token` (kept as a digest) that a code turns
-- into a session once, within minutes.
CREATE TABLE mfa_challenges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
