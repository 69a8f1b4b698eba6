DROP TRIGGER expert_review_counts_delete;
DROP TRIGGER expert_review_counts_update;
DROP TRIGGER expert_review_counts_insert;
DROP TABLE expert_review_counts;
DROP TRIGGER expert_scores_delete;
DROP TRIGGER expert_scores_update;
DROP TRIGGER expert_scores_insert;
ALTER TABLE applications DROP COLUMN expert_scores;
