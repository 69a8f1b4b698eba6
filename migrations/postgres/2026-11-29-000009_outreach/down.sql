DROP TABLE outreach_runs;
DROP TABLE program_outreach;
ALTER TABLE companies DROP COLUMN notify_new_programs;
