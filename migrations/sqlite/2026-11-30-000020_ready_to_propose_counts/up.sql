-- "Ready to propose" counts the applications in expert review with at least their programme's minimum number
-- of scores. Each application keeps how many scores it has, and the applications in expert review are counted
-- per programme and number of scores, so the queue adds up a few counters instead of counting scores.
-- Triggers keep both right in the transaction of every score and every move.
ALTER TABLE applications ADD COLUMN expert_scores INTEGER NOT NULL DEFAULT 0;

UPDATE applications
   SET expert_scores = (SELECT COUNT(*) FROM expert_assignments e WHERE e.application_id = applications.id AND e.score IS NOT NULL)
 WHERE id IN (SELECT application_id FROM expert_assignments WHERE score IS NOT NULL);

CREATE TRIGGER expert_scores_insert AFTER INSERT ON expert_assignments WHEN NEW.score IS NOT NULL BEGIN
    UPDATE applications SET expert_scores = expert_scores + 1 WHERE id = NEW.application_id;
END;

CREATE TRIGGER expert_scores_update AFTER UPDATE OF score ON expert_assignments
    WHEN (OLD.score IS NULL) <> (NEW.score IS NULL)
BEGIN
    UPDATE applications SET expert_scores = expert_scores + (NEW.score IS NOT NULL) - (OLD.score IS NOT NULL)
     WHERE id = NEW.application_id;
END;

CREATE TRIGGER expert_scores_delete AFTER DELETE ON expert_assignments WHEN OLD.score IS NOT NULL BEGIN
    UPDATE applications SET expert_scores = expert_scores - 1 WHERE id = OLD.application_id;
END;

CREATE TABLE expert_review_counts (
    program_id BIGINT NOT NULL REFERENCES programs (id),
    scores INTEGER NOT NULL,
    n BIGINT NOT NULL CHECK (n >= 0),
    PRIMARY KEY (program_id, scores)
);

INSERT INTO expert_review_counts (program_id, scores, n)
    SELECT program_id, expert_scores, COUNT(*) FROM applications WHERE status = 'expert_review' GROUP BY 1, 2;

CREATE TRIGGER expert_review_counts_insert AFTER INSERT ON applications WHEN NEW.status = 'expert_review' BEGIN
    INSERT INTO expert_review_counts (program_id, scores, n) VALUES (NEW.program_id, NEW.expert_scores, 1)
        ON CONFLICT (program_id, scores) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER expert_review_counts_update AFTER UPDATE OF program_id, status, expert_scores ON applications
    WHEN (OLD.status = 'expert_review' OR NEW.status = 'expert_review')
        AND (OLD.program_id <> NEW.program_id OR OLD.status <> NEW.status OR OLD.expert_scores <> NEW.expert_scores)
BEGIN
    UPDATE expert_review_counts SET n = n - 1
     WHERE OLD.status = 'expert_review' AND program_id = OLD.program_id AND scores = OLD.expert_scores;
    INSERT INTO expert_review_counts (program_id, scores, n)
        SELECT NEW.program_id, NEW.expert_scores, 1 WHERE NEW.status = 'expert_review'
        ON CONFLICT (program_id, scores) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER expert_review_counts_delete AFTER DELETE ON applications WHEN OLD.status = 'expert_review' BEGIN
    UPDATE expert_review_counts SET n = n - 1 WHERE program_id = OLD.program_id AND scores = OLD.expert_scores;
END;
