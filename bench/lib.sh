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
