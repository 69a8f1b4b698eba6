-- Bank account numbers stay sealed: only the service, which holds the keys, can open them.
DROP TABLE mfa_challenges;
DROP TABLE mfa_recovery_codes;
DROP TABLE user_totp;
ALTER TABLE users DROP COLUMN mfa_enabled;
