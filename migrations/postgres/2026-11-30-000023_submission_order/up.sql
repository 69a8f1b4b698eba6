-- A list filtered by submission dates is in order of submission, newest first: each page is read off this
-- index from the cursor on, rather than by sorting the range's entries by id.
CREATE INDEX applications_submitted_order ON applications (submitted_at, id);
DROP INDEX applications_submitted_at;
