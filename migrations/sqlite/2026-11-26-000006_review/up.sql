-- An expert on an application: assigned, then a declaration of (no) conflict of interest, then one score.
CREATE TABLE expert_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    expert_id BIGINT NOT NULL REFERENCES users (id),
    assigned_by BIGINT NOT NULL REFERENCES users (id),
    drawn BOOLEAN NOT NULL,
    assigned_at TIMESTAMP NOT NULL,
    declared_at TIMESTAMP,
    conflict_of_interest BOOLEAN,
    statement TEXT,
    score INTEGER CHECK (score BETWEEN 0 AND 100),
    opinion TEXT,
    scored_at TIMESTAMP,
    UNIQUE (application_id, expert_id),
    CHECK (score IS NULL OR (declared_at IS NOT NULL AND conflict_of_interest = FALSE))
);

CREATE INDEX expert_assignments_expert ON expert_assignments (expert_id);

-- A real-name objection lodged during a public notice, and how a reviewer resolved it.
CREATE TABLE objections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    organization TEXT,
    content TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by BIGINT REFERENCES users (id),
    upheld BOOLEAN,
    resolution_comment TEXT,
    CHECK ((resolved_at IS NULL) = (upheld IS NULL))
);

CREATE INDEX objections_application ON objections (application_id);

-- The working-day calendar: public holidays, and weekend days made working days (调休).
CREATE TABLE calendar_days (
    day DATE PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday'))
);
