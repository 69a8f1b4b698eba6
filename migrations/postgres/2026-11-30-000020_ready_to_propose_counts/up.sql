-- "Ready to propose" counts the applications in expert review with at least their programme's minimum number
-- of scores. Each application keeps how many scores it has, and the applications in expert review are counted
-- per programme and number of scores, so the queue adds up a few counters instead of counting scores.
-- Triggers keep both right in the transaction of every score and every move; a score adds one to its
-- application's count rather than recounting it.
ALTER TABLE applications ADD COLUMN expert_scores INTEGER NOT NULL DEFAULT 0;

UPDATE applications a SET expert_scores = scored.n
  FROM (SELECT application_id, COUNT(*) AS n FROM expert_assignments WHERE score IS NOT NULL GROUP BY 1) scored
 WHERE a.id = scored.application_id;

CREATE FUNCTION expert_scores_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change INTEGER := 0;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.score IS NOT NULL THEN
        change := change - 1;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.score IS NOT NULL THEN
        change := change + 1;
    END IF;
    IF change <> 0 THEN
        UPDATE applications SET expert_scores = expert_scores + change
         WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.application_id ELSE NEW.application_id END;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER expert_scores_follow AFTER INSERT OR UPDATE OF score OR DELETE ON expert_assignments
    FOR EACH ROW EXECUTE FUNCTION expert_scores_follow();

CREATE TABLE expert_review_counts (
    program_id BIGINT NOT NULL REFERENCES programs (id),
    scores INTEGER NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (program_id, scores)
);

INSERT INTO expert_review_counts (program_id, scores, n)
    SELECT program_id, expert_scores, COUNT(*) FROM applications WHERE status = 'expert_review' GROUP BY 1, 2;

-- As for application_counts, the two rows a move touches are taken in key order.
CREATE FUNCTION expert_review_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    counted_before BOOLEAN := false;
    counted_after BOOLEAN := false;
    take_first BOOLEAN;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        counted_before := OLD.status = 'expert_review';
    END IF;
    IF TG_OP <> 'DELETE' THEN
        counted_after := NEW.status = 'expert_review';
    END IF;
    take_first := NOT counted_after
        OR (counted_before AND (OLD.program_id, OLD.expert_scores) < (NEW.program_id, NEW.expert_scores));
    IF counted_before AND take_first THEN
        UPDATE expert_review_counts SET n = n - 1 WHERE program_id = OLD.program_id AND scores = OLD.expert_scores;
    END IF;
    IF counted_after THEN
        INSERT INTO expert_review_counts (program_id, scores, n) VALUES (NEW.program_id, NEW.expert_scores, 1)
            ON CONFLICT (program_id, scores) DO UPDATE SET n = expert_review_counts.n + 1;
    END IF;
    IF counted_before AND NOT take_first THEN
        UPDATE expert_review_counts SET n = n - 1 WHERE program_id = OLD.program_id AND scores = OLD.expert_scores;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER expert_review_counts_insert AFTER INSERT ON applications
    FOR EACH ROW WHEN (NEW.status = 'expert_review') EXECUTE FUNCTION expert_review_counts_follow();
CREATE TRIGGER expert_review_counts_delete AFTER DELETE ON applications
    FOR EACH ROW WHEN (OLD.status = 'expert_review') EXECUTE FUNCTION expert_review_counts_follow();
CREATE TRIGGER expert_review_counts_update AFTER UPDATE OF program_id, status, expert_scores ON applications
    FOR EACH ROW WHEN ((OLD.status = 'expert_review' OR NEW.status = 'expert_review')
        AND (OLD.program_id, OLD.status, OLD.expert_scores) IS DISTINCT FROM (NEW.program_id, NEW.status, NEW.expert_scores))
    EXECUTE FUNCTION expert_review_counts_follow();
