-- Lists, queues and search at province scale.

-- How many applications each programme holds in each status, split by whether they were ever submitted
-- (staff never see the others): the dashboards' counts and the lists' totals without counting rows.
-- Triggers keep it right in the transaction of every insert, move and delete.
CREATE TABLE application_counts (
    program_id BIGINT NOT NULL REFERENCES programs (id),
    status TEXT NOT NULL,
    submitted BOOLEAN NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (program_id, status, submitted)
);

INSERT INTO application_counts (program_id, status, submitted, n)
    SELECT program_id, status, submitted_at IS NOT NULL, COUNT(*) FROM applications GROUP BY 1, 2, 3;

CREATE TRIGGER application_counts_insert AFTER INSERT ON applications BEGIN
    INSERT INTO application_counts (program_id, status, submitted, n)
        VALUES (NEW.program_id, NEW.status, NEW.submitted_at IS NOT NULL, 1)
        ON CONFLICT (program_id, status, submitted) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER application_counts_update AFTER UPDATE OF program_id, status, submitted_at ON applications
    WHEN OLD.program_id <> NEW.program_id OR OLD.status <> NEW.status
        OR (OLD.submitted_at IS NULL) <> (NEW.submitted_at IS NULL)
BEGIN
    UPDATE application_counts SET n = n - 1
     WHERE program_id = OLD.program_id AND status = OLD.status AND submitted = (OLD.submitted_at IS NOT NULL);
    INSERT INTO application_counts (program_id, status, submitted, n)
        VALUES (NEW.program_id, NEW.status, NEW.submitted_at IS NOT NULL, 1)
        ON CONFLICT (program_id, status, submitted) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER application_counts_delete AFTER DELETE ON applications BEGIN
    UPDATE application_counts SET n = n - 1
     WHERE program_id = OLD.program_id AND status = OLD.status AND submitted = (OLD.submitted_at IS NOT NULL);
END;

-- How many ledger entries (payments and reversals) each programme has: the ledger's totals without
-- counting millions of rows. Entries are never edited; triggers count each in its own transaction.
CREATE TABLE disbursement_counts (
    program_id BIGINT PRIMARY KEY REFERENCES programs (id),
    n BIGINT NOT NULL CHECK (n >= 0)
);

INSERT INTO disbursement_counts (program_id, n)
    SELECT a.program_id, COUNT(*) FROM disbursements d JOIN applications a ON a.id = d.application_id GROUP BY 1;

CREATE TRIGGER disbursement_counts_insert AFTER INSERT ON disbursements BEGIN
    INSERT INTO disbursement_counts (program_id, n)
        SELECT program_id, 1 FROM applications WHERE id = NEW.application_id AND true
        ON CONFLICT (program_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER disbursement_counts_delete AFTER DELETE ON disbursements BEGIN
    UPDATE disbursement_counts SET n = n - 1
     WHERE program_id = (SELECT program_id FROM applications WHERE id = OLD.application_id);
END;

-- Each list filter with the list's order (newest first), so a page or a cursor reads only its rows.
DROP INDEX applications_program_status;
DROP INDEX applications_company;
CREATE INDEX applications_program_status_id ON applications (program_id, status, id);
CREATE INDEX applications_program_id ON applications (program_id, id);
CREATE INDEX applications_status_id ON applications (status, id);
CREATE INDEX applications_company_id ON applications (company_id, id);
CREATE INDEX applications_submitted_at ON applications (submitted_at);
-- The queues: notices ending, corrections overdue, payments due.
CREATE INDEX applications_status_notice_ends ON applications (status, notice_ends_on, id, program_id);
CREATE INDEX applications_status_correction_due ON applications (status, correction_due_on);
CREATE INDEX applications_status_payment_due ON applications (status, payment_due_on);
CREATE INDEX expert_assignments_application ON expert_assignments (application_id, score);
CREATE INDEX objections_open ON objections (resolved_at, application_id);
CREATE INDEX disbursements_id_application ON disbursements (application_id, id);

-- Search on part of a reference number, a company's name or its credit code, in any case: FTS5 trigram
-- indexes over the rows (external content), kept by triggers.
CREATE VIRTUAL TABLE applications_search USING fts5 (
    reference_no, content = 'applications', content_rowid = 'id', tokenize = 'trigram'
);
CREATE VIRTUAL TABLE companies_search USING fts5 (
    name, credit_code, content = 'companies', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO applications_search (rowid, reference_no)
    SELECT id, reference_no FROM applications WHERE reference_no IS NOT NULL;
INSERT INTO companies_search (rowid, name, credit_code) SELECT id, name, credit_code FROM companies;

CREATE TRIGGER applications_search_insert AFTER INSERT ON applications WHEN NEW.reference_no IS NOT NULL BEGIN
    INSERT INTO applications_search (rowid, reference_no) VALUES (NEW.id, NEW.reference_no);
END;
CREATE TRIGGER applications_search_update AFTER UPDATE OF reference_no ON applications
    WHEN OLD.reference_no IS NOT NEW.reference_no
BEGIN
    INSERT INTO applications_search (applications_search, rowid, reference_no)
        SELECT 'delete', OLD.id, OLD.reference_no WHERE OLD.reference_no IS NOT NULL;
    INSERT INTO applications_search (rowid, reference_no)
        SELECT NEW.id, NEW.reference_no WHERE NEW.reference_no IS NOT NULL;
END;
CREATE TRIGGER applications_search_delete AFTER DELETE ON applications WHEN OLD.reference_no IS NOT NULL BEGIN
    INSERT INTO applications_search (applications_search, rowid, reference_no)
        VALUES ('delete', OLD.id, OLD.reference_no);
END;
CREATE TRIGGER companies_search_insert AFTER INSERT ON companies BEGIN
    INSERT INTO companies_search (rowid, name, credit_code) VALUES (NEW.id, NEW.name, NEW.credit_code);
END;
CREATE TRIGGER companies_search_update AFTER UPDATE OF name, credit_code ON companies BEGIN
    INSERT INTO companies_search (companies_search, rowid, name, credit_code)
        VALUES ('delete', OLD.id, OLD.name, OLD.credit_code);
    INSERT INTO companies_search (rowid, name, credit_code) VALUES (NEW.id, NEW.name, NEW.credit_code);
END;
CREATE TRIGGER companies_search_delete AFTER DELETE ON companies BEGIN
    INSERT INTO companies_search (companies_search, rowid, name, credit_code)
        VALUES ('delete', OLD.id, OLD.name, OLD.credit_code);
END;
