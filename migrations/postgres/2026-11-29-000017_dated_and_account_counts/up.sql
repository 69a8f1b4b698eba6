-- The dated queues (notices ending, corrections overdue, payments due and overdue) count the applications in
-- public notice, returned and approved per day of the date the queue looks at: the notice's end, the
-- correction deadline and the payment due date. A queue then adds up a few hundred days instead of counting
-- its applications. A trigger keeps it right in the transaction of every insert, move and delete.
CREATE TABLE application_day_counts (
    status TEXT NOT NULL,
    day DATE NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (status, day)
);

-- The day an application in `status` is counted on, if any.
CREATE FUNCTION application_day(status TEXT, notice_ends_on DATE, correction_due_on DATE, payment_due_on DATE)
    RETURNS DATE LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE status WHEN 'public_notice' THEN notice_ends_on WHEN 'returned' THEN correction_due_on
                       WHEN 'approved' THEN payment_due_on END
$$;

INSERT INTO application_day_counts (status, day, n)
    SELECT status, application_day(status, notice_ends_on, correction_due_on, payment_due_on) AS day, COUNT(*)
      FROM applications
     WHERE application_day(status, notice_ends_on, correction_due_on, payment_due_on) IS NOT NULL
     GROUP BY 1, 2;

-- As for application_counts, the two rows a move touches are taken in key order.
CREATE FUNCTION application_day_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_day DATE;
    new_day DATE;
    take_first BOOLEAN;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_day := application_day(OLD.status, OLD.notice_ends_on, OLD.correction_due_on, OLD.payment_due_on);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_day := application_day(NEW.status, NEW.notice_ends_on, NEW.correction_due_on, NEW.payment_due_on);
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.status, old_day) IS NOT DISTINCT FROM (NEW.status, new_day) THEN
        RETURN NULL;
    END IF;
    take_first := new_day IS NULL OR (old_day IS NOT NULL AND (OLD.status, old_day) < (NEW.status, new_day));
    IF old_day IS NOT NULL AND take_first THEN
        UPDATE application_day_counts SET n = n - 1 WHERE status = OLD.status AND day = old_day;
    END IF;
    IF new_day IS NOT NULL THEN
        INSERT INTO application_day_counts (status, day, n) VALUES (NEW.status, new_day, 1)
            ON CONFLICT (status, day) DO UPDATE SET n = application_day_counts.n + 1;
    END IF;
    IF old_day IS NOT NULL AND NOT take_first THEN
        UPDATE application_day_counts SET n = n - 1 WHERE status = OLD.status AND day = old_day;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER application_day_counts_insert_delete AFTER INSERT OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION application_day_counts_follow();
CREATE TRIGGER application_day_counts_update
    AFTER UPDATE OF status, notice_ends_on, correction_due_on, payment_due_on ON applications
    FOR EACH ROW WHEN (OLD.status <> NEW.status OR OLD.notice_ends_on IS DISTINCT FROM NEW.notice_ends_on
        OR OLD.correction_due_on IS DISTINCT FROM NEW.correction_due_on
        OR OLD.payment_due_on IS DISTINCT FROM NEW.payment_due_on)
    EXECUTE FUNCTION application_day_counts_follow();

-- The companies and the accounts per value of each list filter but `q`: the lists' totals without counting
-- their rows. The two rows a move touches are taken in key order here too.
CREATE TABLE company_counts (
    industry TEXT NOT NULL,
    park_zone TEXT NOT NULL,
    verification_status TEXT NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (industry, park_zone, verification_status)
);

INSERT INTO company_counts (industry, park_zone, verification_status, n)
    SELECT industry, park_zone, verification_status, COUNT(*) FROM companies GROUP BY 1, 2, 3;

CREATE FUNCTION company_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    take_first BOOLEAN;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        take_first := (OLD.industry, OLD.park_zone, OLD.verification_status)
            < (NEW.industry, NEW.park_zone, NEW.verification_status);
    ELSE
        take_first := TG_OP = 'DELETE';
    END IF;
    IF TG_OP <> 'INSERT' AND take_first THEN
        UPDATE company_counts SET n = n - 1
         WHERE industry = OLD.industry AND park_zone = OLD.park_zone AND verification_status = OLD.verification_status;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO company_counts (industry, park_zone, verification_status, n)
            VALUES (NEW.industry, NEW.park_zone, NEW.verification_status, 1)
            ON CONFLICT (industry, park_zone, verification_status) DO UPDATE SET n = company_counts.n + 1;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT take_first THEN
        UPDATE company_counts SET n = n - 1
         WHERE industry = OLD.industry AND park_zone = OLD.park_zone AND verification_status = OLD.verification_status;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER company_counts_insert_delete AFTER INSERT OR DELETE ON companies
    FOR EACH ROW EXECUTE FUNCTION company_counts_follow();
CREATE TRIGGER company_counts_update AFTER UPDATE OF industry, park_zone, verification_status ON companies
    FOR EACH ROW WHEN (OLD.industry <> NEW.industry OR OLD.park_zone <> NEW.park_zone
        OR OLD.verification_status <> NEW.verification_status)
    EXECUTE FUNCTION company_counts_follow();

CREATE TABLE user_counts (
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (role, status)
);

INSERT INTO user_counts (role, status, n) SELECT role, status, COUNT(*) FROM users GROUP BY 1, 2;

CREATE FUNCTION user_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    take_first BOOLEAN;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        take_first := (OLD.role, OLD.status) < (NEW.role, NEW.status);
    ELSE
        take_first := TG_OP = 'DELETE';
    END IF;
    IF TG_OP <> 'INSERT' AND take_first THEN
        UPDATE user_counts SET n = n - 1 WHERE role = OLD.role AND status = OLD.status;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO user_counts (role, status, n) VALUES (NEW.role, NEW.status, 1)
            ON CONFLICT (role, status) DO UPDATE SET n = user_counts.n + 1;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT take_first THEN
        UPDATE user_counts SET n = n - 1 WHERE role = OLD.role AND status = OLD.status;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_counts_insert_delete AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION user_counts_follow();
CREATE TRIGGER user_counts_update AFTER UPDATE OF role, status ON users
    FOR EACH ROW WHEN (OLD.role <> NEW.role OR OLD.status <> NEW.status)
    EXECUTE FUNCTION user_counts_follow();

-- The whole list of submitted applications newest first, on an index as narrow as the ids: a deep offset
-- skips index entries, not rows.
CREATE INDEX applications_submitted_id ON applications (id) WHERE submitted_at IS NOT NULL;
