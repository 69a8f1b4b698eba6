-- Policy outreach (政策精准推送): a company may turn off the announcements of new programmes; each
-- announcement is recorded once per programme and company, so however many runs and instances there are,
-- a company hears of a programme once. `outreach_runs` is the claim on a programme's periodic run: one
-- instance holds it at a time (`claim_token`), and the next run is due `run_interval_secs` after `started_at`.
ALTER TABLE companies ADD COLUMN notify_new_programs BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE program_outreach (
    program_id BIGINT NOT NULL REFERENCES programs (id),
    company_id BIGINT NOT NULL REFERENCES companies (id),
    notified_at TIMESTAMP NOT NULL,
    PRIMARY KEY (program_id, company_id)
);

CREATE TABLE outreach_runs (
    program_id BIGINT NOT NULL PRIMARY KEY REFERENCES programs (id),
    claim_token TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    runs INTEGER NOT NULL DEFAULT 0 CHECK (runs >= 0),
    last_notified INTEGER NOT NULL DEFAULT 0 CHECK (last_notified >= 0)
);
