-- The worker claims the messages due soonest first. Only unsent messages that are not given up are in this
-- index, in that order, so a claim reads the few it takes, not the whole backlog: with 100,000 queued, a
-- claim sorted every due message and the outbox sent about a hundred a second.
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
-- The messages given up, which the metrics count, and the sent ones, which housekeeping deletes after a
-- while. No index leads with `sent_at` for every row any more: on statistics taken while nothing was queued,
-- PostgreSQL chose such an index for the claim's update by id and read the whole backlog at every message.
CREATE INDEX outbox_failed ON outbox (failed_at) WHERE sent_at IS NULL AND failed_at IS NOT NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
DROP INDEX outbox_due;
