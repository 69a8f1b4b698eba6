-- Submitted applications per hour of submission (UTC): the total of a list filtered by submission dates adds
-- up a few thousand hours instead of counting the applications. The filter's dates are local days, which are
-- whole UTC hours where the zone's offset is whole hours, as China's is (other offsets count the applications).
-- Triggers keep it right in the transaction of every insert, submission and delete. An hour is kept as the
-- text its start is bound as, `YYYY-MM-DD HH:00:00`.
CREATE TABLE submitted_hour_counts (
    hour TIMESTAMP PRIMARY KEY NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0)
);

INSERT INTO submitted_hour_counts (hour, n)
    SELECT substr(submitted_at, 1, 13) || ':00:00', COUNT(*) FROM applications WHERE submitted_at IS NOT NULL GROUP BY 1;

CREATE TRIGGER submitted_hour_counts_insert AFTER INSERT ON applications WHEN NEW.submitted_at IS NOT NULL BEGIN
    INSERT INTO submitted_hour_counts (hour, n) VALUES (substr(NEW.submitted_at, 1, 13) || ':00:00', 1)
        ON CONFLICT (hour) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER submitted_hour_counts_update AFTER UPDATE OF submitted_at ON applications
    WHEN OLD.submitted_at IS NOT NEW.submitted_at
BEGIN
    UPDATE submitted_hour_counts SET n = n - 1 WHERE hour = substr(OLD.submitted_at, 1, 13) || ':00:00';
    INSERT INTO submitted_hour_counts (hour, n)
        SELECT substr(NEW.submitted_at, 1, 13) || ':00:00', 1 WHERE NEW.submitted_at IS NOT NULL
        ON CONFLICT (hour) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER submitted_hour_counts_delete AFTER DELETE ON applications WHEN OLD.submitted_at IS NOT NULL BEGIN
    UPDATE submitted_hour_counts SET n = n - 1 WHERE hour = substr(OLD.submitted_at, 1, 13) || ':00:00';
END;
