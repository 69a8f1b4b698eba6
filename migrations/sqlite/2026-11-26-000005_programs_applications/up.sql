-- A support-fund programme: its guide, window, money and the three structured parts (eligibility rules,
-- required materials, form fields) kept as JSON text, so a new policy needs no new table or code.
CREATE TABLE programs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('integrated_circuit', 'biomedicine', 'high_tech_certification',
        'patent', 'other')),
    summary TEXT NOT NULL,
    guide TEXT NOT NULL,
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    budget_fen BIGINT NOT NULL CHECK (budget_fen > 0),
    reserved_fen BIGINT NOT NULL DEFAULT 0 CHECK (reserved_fen >= 0),
    disbursed_fen BIGINT NOT NULL DEFAULT 0 CHECK (disbursed_fen >= 0),
    max_award_fen BIGINT NOT NULL CHECK (max_award_fen > 0),
    public_notice_days INTEGER NOT NULL CHECK (public_notice_days BETWEEN 0 AND 30),
    payment_due_days INTEGER NOT NULL CHECK (payment_due_days BETWEEN 1 AND 365),
    correction_days INTEGER NOT NULL CHECK (correction_days BETWEEN 1 AND 60),
    min_expert_reviews INTEGER NOT NULL CHECK (min_expert_reviews BETWEEN 0 AND 20),
    max_total_upload_bytes BIGINT NOT NULL CHECK (max_total_upload_bytes > 0),
    eligibility_rules TEXT NOT NULL,
    required_materials TEXT NOT NULL,
    form_fields TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'closed')),
    last_reference_seq BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (closes_at > opens_at),
    CHECK (max_award_fen <= budget_fen),
    CHECK (reserved_fen + disbursed_fen <= budget_fen)
);

CREATE TABLE applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    program_id BIGINT NOT NULL REFERENCES programs (id),
    company_id BIGINT NOT NULL REFERENCES companies (id),
    created_by BIGINT NOT NULL REFERENCES users (id),
    reference_no TEXT UNIQUE,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'returned', 'expert_review',
        'public_notice', 'approved', 'disbursed', 'rejected', 'withdrawn')),
    requested_amount_fen BIGINT NOT NULL CHECK (requested_amount_fen > 0),
    approved_amount_fen BIGINT CHECK (approved_amount_fen > 0),
    disbursed_fen BIGINT NOT NULL DEFAULT 0 CHECK (disbursed_fen >= 0),
    form_data TEXT NOT NULL,
    company_snapshot TEXT,
    correction_due_on DATE,
    notice_starts_on DATE,
    notice_ends_on DATE,
    payment_due_on DATE,
    submitted_at TIMESTAMP,
    decided_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (approved_amount_fen IS NULL OR approved_amount_fen <= requested_amount_fen),
    CHECK (disbursed_fen <= coalesce(approved_amount_fen, 0))
);

-- At most one live application per company and programme, whatever the concurrency.
CREATE UNIQUE INDEX applications_one_live ON applications (program_id, company_id)
    WHERE status NOT IN ('withdrawn', 'rejected');
CREATE INDEX applications_program_status ON applications (program_id, status);
CREATE INDEX applications_company ON applications (company_id);
CREATE INDEX applications_status_submitted ON applications (status, submitted_at);

-- An uploaded material. The file itself is in storage under `storage_key`; `file_name` is only shown.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    material_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    sha256 TEXT NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX attachments_application ON attachments (application_id);
