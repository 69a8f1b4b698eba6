DROP TABLE calendar_days;
DROP INDEX objections_application;
DROP TABLE objections;
DROP INDEX expert_assignments_expert;
DROP TABLE expert_assignments;
