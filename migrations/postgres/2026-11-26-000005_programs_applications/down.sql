DROP INDEX attachments_application;
DROP TABLE attachments;
DROP INDEX applications_status_submitted;
DROP INDEX applications_company;
DROP INDEX applications_program_status;
DROP INDEX applications_one_live;
DROP TABLE applications;
DROP TABLE programs;
