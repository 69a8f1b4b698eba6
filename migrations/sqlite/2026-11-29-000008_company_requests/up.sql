-- A company's question or complaint (企业诉求): received, assigned to an owner, answered in a thread, resolved
-- and rated. Deadlines are park-local dates counted in working days; days spent waiting on the company do not
-- count, so they move the deadlines on when the company answers. `rating` is the rating of the latest
-- resolution; `ratings_given`, `rating_sum` and `bad_ratings` count every rating it ever received.
CREATE TABLE company_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference_no TEXT NOT NULL UNIQUE,
    company_id BIGINT NOT NULL REFERENCES companies (id),
    created_by BIGINT NOT NULL REFERENCES users (id),
    category TEXT NOT NULL CHECK (category IN ('policy_consultation', 'application_help', 'payment_inquiry',
        'complaint', 'suggestion')),
    subject TEXT NOT NULL,
    content TEXT NOT NULL,
    program_id BIGINT REFERENCES programs (id),
    application_id BIGINT REFERENCES applications (id),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'waiting_company', 'resolved',
        'reopened', 'closed')),
    assignee_id BIGINT REFERENCES users (id),
    received_on DATE NOT NULL,
    first_response_due_on DATE NOT NULL,
    due_on DATE NOT NULL,
    first_responded_at TIMESTAMP,
    waiting_since DATE,
    paused_days INTEGER NOT NULL DEFAULT 0 CHECK (paused_days >= 0),
    resolution TEXT,
    resolved_at TIMESTAMP,
    resolved_on DATE,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    rating_comment TEXT,
    ratings_given INTEGER NOT NULL DEFAULT 0,
    rating_sum INTEGER NOT NULL DEFAULT 0,
    bad_ratings INTEGER NOT NULL DEFAULT 0,
    escalated_at TIMESTAMP,
    closed_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((status = 'waiting_company') = (waiting_since IS NOT NULL))
);

CREATE INDEX company_requests_company ON company_requests (company_id, id);
CREATE INDEX company_requests_status_due ON company_requests (status, due_on);
CREATE INDEX company_requests_assignee ON company_requests (assignee_id, status);
CREATE INDEX company_requests_received ON company_requests (received_on);

-- The thread of a request. Internal notes are for staff only and never reach the company.
CREATE TABLE request_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES company_requests (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX request_messages_request ON request_messages (request_id, id);

-- The last reference number handed out per year: Q<year>-<seq>, consecutive under any concurrency.
CREATE TABLE request_counters (
    year INTEGER PRIMARY KEY,
    last_seq BIGINT NOT NULL
);
