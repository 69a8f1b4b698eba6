DROP TRIGGER submitted_hour_counts_update ON applications;
DROP TRIGGER submitted_hour_counts_delete ON applications;
DROP TRIGGER submitted_hour_counts_insert ON applications;
DROP FUNCTION submitted_hour_counts_follow();
DROP TABLE submitted_hour_counts;
