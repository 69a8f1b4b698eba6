-- A company's yearly figures, read by eligibility rules.
CREATE TABLE company_financials (
    company_id BIGINT NOT NULL REFERENCES companies (id),
    year INTEGER NOT NULL CHECK (year BETWEEN 1949 AND 2200),
    revenue_fen BIGINT NOT NULL CHECK (revenue_fen >= 0),
    rd_expense_fen BIGINT NOT NULL CHECK (rd_expense_fen >= 0),
    employee_count INTEGER NOT NULL CHECK (employee_count >= 0),
    rd_staff_count INTEGER NOT NULL CHECK (rd_staff_count >= 0 AND rd_staff_count <= employee_count),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (company_id, year)
);

-- The account awards are paid into.
CREATE TABLE company_bank_accounts (
    company_id BIGINT PRIMARY KEY REFERENCES companies (id),
    bank_name TEXT NOT NULL,
    account_name TEXT NOT NULL,
    account_no TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX companies_name_lower ON companies (lower(name));
