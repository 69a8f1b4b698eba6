CREATE TABLE companies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    credit_code TEXT NOT NULL UNIQUE CHECK (length(credit_code) = 18),
    name TEXT NOT NULL,
    legal_representative TEXT NOT NULL,
    industry TEXT NOT NULL CHECK (industry IN ('integrated_circuit', 'biomedicine', 'intelligent_manufacturing',
        'software', 'new_energy', 'new_materials', 'marine', 'other')),
    park_zone TEXT NOT NULL,
    established_on DATE NOT NULL,
    registered_capital_fen BIGINT NOT NULL CHECK (registered_capital_fen >= 0),
    address TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    verification_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (verification_status IN ('pending', 'verified', 'rejected')),
    verification_comment TEXT,
    high_tech_certificate_no TEXT,
    high_tech_valid_until DATE,
    tech_sme BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('applicant', 'reviewer', 'expert', 'finance', 'admin')),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    email_verified_at TIMESTAMP,
    company_id BIGINT REFERENCES companies (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((role = 'applicant') = (company_id IS NOT NULL))
);

CREATE INDEX users_company_id ON users (company_id);
