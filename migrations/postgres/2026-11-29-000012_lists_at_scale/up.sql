-- Lists, queues and search at province scale.

-- How many applications each programme holds in each status, split by whether they were ever submitted
-- (staff never see the others): the dashboards' counts and the lists' totals without counting rows. A
-- trigger keeps it right in the transaction of every insert, move and delete.
CREATE TABLE application_counts (
    program_id BIGINT NOT NULL REFERENCES programs (id),
    status TEXT NOT NULL,
    submitted BOOLEAN NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (program_id, status, submitted)
);

INSERT INTO application_counts (program_id, status, submitted, n)
    SELECT program_id, status, submitted_at IS NOT NULL, COUNT(*) FROM applications GROUP BY 1, 2, 3;

-- The two rows a move touches are taken in key order, so two moves in opposite directions (a return and a
-- resubmission) cannot deadlock on them.
CREATE FUNCTION application_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    take_first BOOLEAN;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        take_first := (OLD.program_id, OLD.status, OLD.submitted_at IS NOT NULL)
            < (NEW.program_id, NEW.status, NEW.submitted_at IS NOT NULL);
    ELSE
        take_first := TG_OP = 'DELETE';
    END IF;
    IF TG_OP <> 'INSERT' AND take_first THEN
        UPDATE application_counts SET n = n - 1
         WHERE program_id = OLD.program_id AND status = OLD.status AND submitted = (OLD.submitted_at IS NOT NULL);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO application_counts (program_id, status, submitted, n)
            VALUES (NEW.program_id, NEW.status, NEW.submitted_at IS NOT NULL, 1)
            ON CONFLICT (program_id, status, submitted) DO UPDATE SET n = application_counts.n + 1;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT take_first THEN
        UPDATE application_counts SET n = n - 1
         WHERE program_id = OLD.program_id AND status = OLD.status AND submitted = (OLD.submitted_at IS NOT NULL);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER application_counts_insert_delete AFTER INSERT OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION application_counts_follow();
CREATE TRIGGER application_counts_update AFTER UPDATE OF program_id, status, submitted_at ON applications
    FOR EACH ROW WHEN (OLD.program_id <> NEW.program_id OR OLD.status <> NEW.status
        OR (OLD.submitted_at IS NULL) <> (NEW.submitted_at IS NULL))
    EXECUTE FUNCTION application_counts_follow();

-- How many ledger entries (payments and reversals) each programme has: the ledger's totals without
-- counting millions of rows. Entries are never edited; a trigger counts each in its own transaction.
CREATE TABLE disbursement_counts (
    program_id BIGINT PRIMARY KEY REFERENCES programs (id),
    n BIGINT NOT NULL CHECK (n >= 0)
);

INSERT INTO disbursement_counts (program_id, n)
    SELECT a.program_id, COUNT(*) FROM disbursements d JOIN applications a ON a.id = d.application_id GROUP BY 1;

CREATE FUNCTION disbursement_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO disbursement_counts (program_id, n)
            SELECT program_id, 1 FROM applications WHERE id = NEW.application_id
            ON CONFLICT (program_id) DO UPDATE SET n = disbursement_counts.n + 1;
    ELSE
        UPDATE disbursement_counts SET n = n - 1
         WHERE program_id = (SELECT program_id FROM applications WHERE id = OLD.application_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER disbursement_counts_follow AFTER INSERT OR DELETE ON disbursements
    FOR EACH ROW EXECUTE FUNCTION disbursement_counts_follow();

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

-- Search on part of a reference number, a company's name or its credit code, in any case.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX applications_reference_trgm ON applications USING gin (lower(reference_no) gin_trgm_ops);
CREATE INDEX companies_name_trgm ON companies USING gin (lower(name) gin_trgm_ops);
CREATE INDEX companies_credit_code_trgm ON companies USING gin (lower(credit_code) gin_trgm_ops);
