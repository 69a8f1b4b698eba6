-- Submitted applications per hour of submission (UTC): the total of a list filtered by submission dates adds
-- up a few thousand hours instead of counting the applications. The filter's dates are local days, which are
-- whole UTC hours where the zone's offset is whole hours, as China's is (other offsets count the applications).
-- A trigger keeps it right in the transaction of every insert, submission and delete.
CREATE TABLE submitted_hour_counts (
    hour TIMESTAMP PRIMARY KEY,
    n BIGINT NOT NULL CHECK (n >= 0)
);

INSERT INTO submitted_hour_counts (hour, n)
    SELECT date_trunc('hour', submitted_at), COUNT(*) FROM applications WHERE submitted_at IS NOT NULL GROUP BY 1;

-- An application's submission time is set once; an update moving it takes the older hour first (key order).
CREATE FUNCTION submitted_hour_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_hour TIMESTAMP;
    new_hour TIMESTAMP;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_hour := date_trunc('hour', OLD.submitted_at);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_hour := date_trunc('hour', NEW.submitted_at);
    END IF;
    IF old_hour IS NOT DISTINCT FROM new_hour THEN
        RETURN NULL;
    END IF;
    IF old_hour IS NOT NULL AND (new_hour IS NULL OR old_hour < new_hour) THEN
        UPDATE submitted_hour_counts SET n = n - 1 WHERE hour = old_hour;
        old_hour := NULL;
    END IF;
    IF new_hour IS NOT NULL THEN
        INSERT INTO submitted_hour_counts (hour, n) VALUES (new_hour, 1)
            ON CONFLICT (hour) DO UPDATE SET n = submitted_hour_counts.n + 1;
    END IF;
    IF old_hour IS NOT NULL THEN
        UPDATE submitted_hour_counts SET n = n - 1 WHERE hour = old_hour;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER submitted_hour_counts_insert AFTER INSERT ON applications
    FOR EACH ROW WHEN (NEW.submitted_at IS NOT NULL) EXECUTE FUNCTION submitted_hour_counts_follow();
CREATE TRIGGER submitted_hour_counts_delete AFTER DELETE ON applications
    FOR EACH ROW WHEN (OLD.submitted_at IS NOT NULL) EXECUTE FUNCTION submitted_hour_counts_follow();
CREATE TRIGGER submitted_hour_counts_update AFTER UPDATE OF submitted_at ON applications
    FOR EACH ROW WHEN (OLD.submitted_at IS DISTINCT FROM NEW.submitted_at)
    EXECUTE FUNCTION submitted_hour_counts_follow();
