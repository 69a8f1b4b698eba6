# Shared by the benchmark scripts, which source it; WORK must name the script's scratch folder.

# fresh_database BACKEND NAME: prints the URL of a new, empty database: a file under $WORK for sqlite, the
# database NAME (dropped first if it exists) on the local PostgreSQL for postgres.
fresh_database() {
  if [ "$1" = sqlite ]; then
    rm -f "$WORK/portal.db"*
    echo "sqlite://$WORK/portal.db"
  else
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2" >&2
    echo "postgres://postgres@127.0.0.1:5432/$2"
  fi
}

# wait_ready BASE: waits up to 20 s for the service at BASE to answer its readiness check.
wait_ready() {
  for _ in $(seq 1 100); do curl -fs "$1/health/ready" >/dev/null && return 0; sleep 0.2; done
  echo "the service at $1 did not become ready" >&2
  return 1
}

# quieten URL: so that a measurement on a kept database starts quiet, drops the mail still queued (a rush's
# announcement), records every programme's announcement as made, lest the next service make it again, and on
# PostgreSQL vacuums what the announcement wrote, which autovacuum would otherwise do during the measurement.
quieten() {
  local sql="DELETE FROM outbox WHERE sent_at IS NULL;
    UPDATE outreach_runs SET finished_at = started_at WHERE finished_at IS NULL;
    INSERT INTO outreach_runs (program_id, claim_token, started_at, finished_at, runs, last_notified)
      SELECT id, 'bench', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 0 FROM programs
      WHERE id NOT IN (SELECT program_id FROM outreach_runs);"
  case "$1" in
    postgres://*) psql -q "$1" -c "$sql" -c "VACUUM ANALYZE outbox, program_outreach, outreach_runs" ;;
    sqlite://*) sqlite3 "${1#sqlite://}" "$sql" ;;
  esac
}
