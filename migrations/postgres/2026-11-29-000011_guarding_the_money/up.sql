-- Whether finance has confirmed the company's current bank account: none (no account), unconfirmed (set, or
-- changed since it was last confirmed) or confirmed. Accounts set before this are unconfirmed.
ALTER TABLE companies ADD COLUMN bank_account_status TEXT NOT NULL DEFAULT 'none'
    CHECK (bank_account_status IN ('none', 'unconfirmed', 'confirmed'));
UPDATE companies SET bank_account_status = 'unconfirmed' WHERE id IN (SELECT company_id FROM company_bank_accounts);

-- Who confirmed the current account, and when (both null until confirmed).
ALTER TABLE company_bank_accounts ADD COLUMN confirmed_at TIMESTAMP;
ALTER TABLE company_bank_accounts ADD COLUMN confirmed_by BIGINT;

-- The account a payment went to: masked (`****7890`) and the SHA-256 of its full number.
ALTER TABLE disbursements ADD COLUMN paid_to TEXT;
ALTER TABLE disbursements ADD COLUMN paid_to_sha256 TEXT;
