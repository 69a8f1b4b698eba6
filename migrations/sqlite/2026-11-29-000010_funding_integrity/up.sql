-- Funding integrity (不重复享受, 按比例核减). Programmes that fund the same thing share a support family (a
-- company holds at most one live award in a family), and an award may be capped at a share of the claimed
-- eligible cost.
ALTER TABLE programs ADD COLUMN support_family TEXT;
ALTER TABLE programs ADD COLUMN max_support_ratio_percent INTEGER
    CHECK (max_support_ratio_percent BETWEEN 1 AND 100);

-- The invoices an application claims as its eligible cost. A claim is live until the application is
-- withdrawn or rejected (`released_at` set); an invoice (seller's credit code + number) is held by at most
-- one live claim in the whole system, so the same invoice never backs two awards.
CREATE TABLE application_invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    seller_tax_id TEXT NOT NULL,
    invoice_no TEXT NOT NULL,
    issued_on DATE NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    claimed_at TIMESTAMP NOT NULL,
    released_at TIMESTAMP
);

CREATE UNIQUE INDEX application_invoices_live_claim ON application_invoices (seller_tax_id, invoice_no)
    WHERE released_at IS NULL;
CREATE INDEX application_invoices_application ON application_invoices (application_id, id);
-- Staff see which other applications claimed the same invoice, live or not.
CREATE INDEX application_invoices_invoice ON application_invoices (invoice_no, seller_tax_id);
CREATE INDEX programs_support_family ON programs (support_family);
