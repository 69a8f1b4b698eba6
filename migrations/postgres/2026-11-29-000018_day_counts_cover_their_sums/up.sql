-- The dated queues add up one status's per-day counters over a range of days: with `n` in the index the sum
-- reads the index alone, not each counter's row as well.
CREATE INDEX application_day_counts_sums ON application_day_counts (status, day, n);
