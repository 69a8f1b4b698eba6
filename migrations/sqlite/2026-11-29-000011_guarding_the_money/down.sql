ALTER TABLE disbursements DROP COLUMN paid_to_sha256;
ALTER TABLE disbursements DROP COLUMN paid_to;
ALTER TABLE company_bank_accounts DROP COLUMN confirmed_by;
ALTER TABLE company_bank_accounts DROP COLUMN confirmed_at;
ALTER TABLE companies DROP COLUMN bank_account_status;
