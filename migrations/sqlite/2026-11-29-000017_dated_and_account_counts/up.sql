-- The dated queues (notices ending, corrections overdue, payments due and overdue) count the applications in
-- public notice, returned and approved per day of the date the queue looks at: the notice's end, the
-- correction deadline and the payment due date. A queue then adds up a few hundred days instead of counting
-- its applications. Triggers keep it right in the transaction of every insert, move and delete.
CREATE TABLE application_day_counts (
    status TEXT NOT NULL,
    day DATE NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (status, day)
);

INSERT INTO application_day_counts (status, day, n)
    SELECT status, day, COUNT(*) FROM (
        SELECT status, CASE status WHEN 'public_notice' THEN notice_ends_on WHEN 'returned' THEN correction_due_on
                                   WHEN 'approved' THEN payment_due_on END AS day
          FROM applications
    ) WHERE day IS NOT NULL GROUP BY 1, 2;

CREATE TRIGGER application_day_counts_insert AFTER INSERT ON applications BEGIN
    INSERT INTO application_day_counts (status, day, n)
        SELECT NEW.status, day, 1 FROM (
            SELECT CASE NEW.status WHEN 'public_notice' THEN NEW.notice_ends_on WHEN 'returned' THEN NEW.correction_due_on
                                   WHEN 'approved' THEN NEW.payment_due_on END AS day
        ) WHERE day IS NOT NULL
        ON CONFLICT (status, day) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER application_day_counts_update
    AFTER UPDATE OF status, notice_ends_on, correction_due_on, payment_due_on ON applications
    WHEN OLD.status <> NEW.status OR OLD.notice_ends_on IS NOT NEW.notice_ends_on
        OR OLD.correction_due_on IS NOT NEW.correction_due_on OR OLD.payment_due_on IS NOT NEW.payment_due_on
BEGIN
    UPDATE application_day_counts SET n = n - 1
     WHERE status = OLD.status
       AND day = CASE OLD.status WHEN 'public_notice' THEN OLD.notice_ends_on WHEN 'returned' THEN OLD.correction_due_on
                                 WHEN 'approved' THEN OLD.payment_due_on END;
    INSERT INTO application_day_counts (status, day, n)
        SELECT NEW.status, day, 1 FROM (
            SELECT CASE NEW.status WHEN 'public_notice' THEN NEW.notice_ends_on WHEN 'returned' THEN NEW.correction_due_on
                                   WHEN 'approved' THEN NEW.payment_due_on END AS day
        ) WHERE day IS NOT NULL
        ON CONFLICT (status, day) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER application_day_counts_delete AFTER DELETE ON applications BEGIN
    UPDATE application_day_counts SET n = n - 1
     WHERE status = OLD.status
       AND day = CASE OLD.status WHEN 'public_notice' THEN OLD.notice_ends_on WHEN 'returned' THEN OLD.correction_due_on
                                 WHEN 'approved' THEN OLD.payment_due_on END;
END;

-- The companies and the accounts per value of each list filter but `q`: the lists' totals without counting
-- their rows.
CREATE TABLE company_counts (
    industry TEXT NOT NULL,
    park_zone TEXT NOT NULL,
    verification_status TEXT NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (industry, park_zone, verification_status)
);

INSERT INTO company_counts (industry, park_zone, verification_status, n)
    SELECT industry, park_zone, verification_status, COUNT(*) FROM companies GROUP BY 1, 2, 3;

CREATE TRIGGER company_counts_insert AFTER INSERT ON companies BEGIN
    INSERT INTO company_counts (industry, park_zone, verification_status, n)
        VALUES (NEW.industry, NEW.park_zone, NEW.verification_status, 1)
        ON CONFLICT (industry, park_zone, verification_status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER company_counts_update AFTER UPDATE OF industry, park_zone, verification_status ON companies
    WHEN OLD.industry <> NEW.industry OR OLD.park_zone <> NEW.park_zone
        OR OLD.verification_status <> NEW.verification_status
BEGIN
    UPDATE company_counts SET n = n - 1
     WHERE industry = OLD.industry AND park_zone = OLD.park_zone AND verification_status = OLD.verification_status;
    INSERT INTO company_counts (industry, park_zone, verification_status, n)
        VALUES (NEW.industry, NEW.park_zone, NEW.verification_status, 1)
        ON CONFLICT (industry, park_zone, verification_status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER company_counts_delete AFTER DELETE ON companies BEGIN
    UPDATE company_counts SET n = n - 1
     WHERE industry = OLD.industry AND park_zone = OLD.park_zone AND verification_status = OLD.verification_status;
END;

CREATE TABLE user_counts (
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (role, status)
);

INSERT INTO user_counts (role, status, n) SELECT role, status, COUNT(*) FROM users GROUP BY 1, 2;

CREATE TRIGGER user_counts_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (role, status, n) VALUES (NEW.role, NEW.status, 1)
        ON CONFLICT (role, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER user_counts_update AFTER UPDATE OF role, status ON users
    WHEN OLD.role <> NEW.role OR OLD.status <> NEW.status
BEGIN
    UPDATE user_counts SET n = n - 1 WHERE role = OLD.role AND status = OLD.status;
    INSERT INTO user_counts (role, status, n) VALUES (NEW.role, NEW.status, 1)
        ON CONFLICT (role, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER user_counts_delete AFTER DELETE ON users BEGIN
    UPDATE user_counts SET n = n - 1 WHERE role = OLD.role AND status = OLD.status;
END;

-- The whole list of submitted applications newest first, on an index as narrow as the ids: a deep offset
-- skips index entries, not rows.
CREATE INDEX applications_submitted_id ON applications (id) WHERE submitted_at IS NOT NULL;
