-- From this event on, each hash is an HMAC keyed with audit.chain_key: someone who can write to the
-- database but does not hold the key cannot recompute the chain after changing history.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;
