-- When an approved award is to be paid, in instalments summing to the approved amount.
CREATE TABLE payment_instalments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    due_on DATE NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX payment_instalments_application ON payment_instalments (application_id);

-- Money paid out, and reversals of it: entries are added, never edited or deleted. `amount_fen` is
-- always positive; a reversal takes its payment's amount back.
CREATE TABLE disbursements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'reversal')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    paid_on DATE NOT NULL,
    voucher_no TEXT UNIQUE,
    note TEXT,
    reverses_id BIGINT UNIQUE REFERENCES disbursements (id),
    recorded_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK ((kind = 'reversal') = (reverses_id IS NOT NULL)),
    CHECK (kind = 'reversal' OR voucher_no IS NOT NULL)
);

CREATE INDEX disbursements_application ON disbursements (application_id, paid_on, kind, amount_fen);
CREATE INDEX disbursements_paid_on ON disbursements (paid_on);

-- A finance user's Idempotency-Key: the request it was first used for, and the answer it got.
CREATE TABLE idempotency_keys (
    user_id BIGINT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    claimed_at TIMESTAMP NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    completed_at TIMESTAMP,
    PRIMARY KEY (user_id, key)
);
