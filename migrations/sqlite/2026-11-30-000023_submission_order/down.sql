CREATE INDEX applications_submitted_at ON applications (submitted_at);
DROP INDEX applications_submitted_order;
