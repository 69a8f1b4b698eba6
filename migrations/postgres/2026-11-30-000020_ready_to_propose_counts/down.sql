DROP TRIGGER expert_review_counts_update ON applications;
DROP TRIGGER expert_review_counts_delete ON applications;
DROP TRIGGER expert_review_counts_insert ON applications;
DROP FUNCTION expert_review_counts_follow();
DROP TABLE expert_review_counts;
DROP TRIGGER expert_scores_follow ON expert_assignments;
DROP FUNCTION expert_scores_follow();
ALTER TABLE applications DROP COLUMN expert_scores;
