#!/usr/bin/env bash
# Lists, queues and search at province scale (issue 13), reproducible on one machine: a release build with
# the `bench` feature, against SQLite and then PostgreSQL (127.0.0.1:5432), each seeded with
# `portal seed-bench` at the sizes below, every list loaded with wrk on loopback at 8 and at 64 connections.
# Prints a Markdown section (BENCHMARKS.md "Lists at scale" is one such run) and keeps it in $OUT.
# Knobs: COMPANIES (100000), APPLICATIONS (1000000), PAYMENTS (5000000), DURATION (5s), BACKENDS
# ("sqlite postgres"), BIN (target/release/portal, built if absent), OUT (/tmp/lists-results.md), PORT (18081), RUSH (1000
# companies submitting at once through bench/rush.py after the lists; 0 skips it), KEEP (a directory: the
# SQLite database stays there and PostgreSQL's `portal_lists` stays too, and a later run with the same KEEP
# reuses both, migrated by the binary under test, instead of seeding again; empty: seed afresh, drop after).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROOT=$PWD
COMPANIES=${COMPANIES:-100000}
APPLICATIONS=${APPLICATIONS:-1000000}
PAYMENTS=${PAYMENTS:-5000000}
DURATION=${DURATION:-5s}
BACKENDS=${BACKENDS:-"sqlite postgres"}
OUT=${OUT:-/tmp/lists-results.md}
RUSH=${RUSH:-1000}
KEEP=${KEEP:-}
PORT=${PORT:-18081}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
# (A pid of 0 would name this whole process group, the caller's shell included.)
trap '[ "${SERVER:-0}" = 0 ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/portal}
[ -x "$BIN" ] || cargo build --release --quiet --features bench

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
rps() { grep 'Requests/sec' "$1" | awk '{printf "%.0f", $2}'; }
p99() { grep -E '^\s+99%' "$1" | awk '{print $2}'; }
get() { curl -fsS "$BASE$1" -H "Authorization: Bearer $2"; }

# row LABEL PATH TOKEN: wrk at 8 connections (p99) and at 64 (requests/s), one table row, after a warm-up.
row() {
  local label=$1 path=$2 token=$3
  sleep 2 # the previous row's backlog is answered before this one starts
  # One second of the same requests first, not counted: a row measures the list with its pages in the cache,
  # as a service that has been answering it does, not the disk's first reads.
  wrk -t2 -c8 -d1s -H "Authorization: Bearer $token" "$BASE$path" > /dev/null
  wrk -t2 -c8 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$BASE$path" > "$WORK/c8.txt"
  wrk -t2 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$BASE$path" > "$WORK/c64.txt"
  local errors
  errors=$(grep -E 'Non-2xx|Socket errors' "$WORK/c8.txt" "$WORK/c64.txt" | sed 's/.*://' | tr '\n' ' ' || true)
  echo "| $label | \`${path#/api/v1}\` | $(p99 "$WORK/c8.txt") | $(rps "$WORK/c8.txt") | $(p99 "$WORK/c64.txt") | $(rps "$WORK/c64.txt") | ${errors} |"
}

{
  echo "### Machine and sizes"
  echo
  echo "$(nproc) cores (shared), $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -sr); release build; wrk -t2 -d$DURATION on loopback."
  echo "Data: \`portal seed-bench --companies $COMPANIES --applications $APPLICATIONS --payments $PAYMENTS\`."
  echo
} > "$OUT"

DATA=${KEEP:-$WORK}
mkdir -p "$DATA"
for backend in $BACKENDS; do
  reuse=false
  if [ "$backend" = sqlite ]; then
    URL="sqlite://$DATA/portal.db"
    [ -n "$KEEP" ] && [ -s "$DATA/portal.db" ] && reuse=true
  else
    if [ -n "$KEEP" ] && psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'portal_lists'" | grep -q 1; then
      reuse=true
    else
      psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS portal_lists WITH (FORCE)" -c "CREATE DATABASE portal_lists"
    fi
    URL="postgres://postgres@127.0.0.1:5432/portal_lists"
  fi
  export APP_DATABASE__URL=$URL APP_SERVER__PORT=$PORT APP_LOG__FILTER=warn APP_MAIL__TRANSPORT=memory \
         APP_OUTREACH__POLL_INTERVAL_SECS=1 APP_STORAGE__UPLOAD_DIR="$WORK/uploads" APP_SERVER__WORKERS=2
  if $reuse; then
    "$BIN" migrate
    quieten "$URL"
    seeded="reused from an earlier run"
  else
    seeded=$( { /usr/bin/time -f %e "$BIN" seed-bench --companies "$COMPANIES" --applications "$APPLICATIONS" \
                --payments "$PAYMENTS" >/dev/null; } 2>&1 | tail -1 )
    seeded="$seeded s"
    echo "a long admin passphrase" | "$BIN" create-admin --email admin@bench.example >/dev/null
  fi
  [ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -d portal_lists -c "VACUUM ANALYZE"
  [ "$backend" = sqlite ] && sqlite3 "$DATA/portal.db" "ANALYZE"
  "$BIN" serve & SERVER=$!
  for _ in $(seq 1 100); do curl -fs "$BASE/health/ready" >/dev/null && break; sleep 0.2; done

  login() { curl -fs "$BASE/api/v1/auth/login" -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" | json '["access_token"]'; }
  REVIEWER=$(login reviewer@bench.example bench-password-violet-42)
  FINANCE=$(login finance@bench.example bench-password-violet-42)
  COMPANY=$(login company0@bench.example bench-password-violet-42)
  ADMIN=$(login admin@bench.example "a long admin passphrase")
  APPLICATION=$(get "/api/v1/applications?per_page=1" "$COMPANY" | json '["items"][0]["id"]')
  COMPANY_ID=$(get "/api/v1/applications?per_page=1" "$COMPANY" | json '["items"][0]["company"]["id"]')
  # The ninth seeded programme (a kept database also holds the programmes of earlier runs' rushes).
  PROGRAM=$(get "/api/v1/programs?per_page=100" "$REVIEWER" |
    python3 -c 'import json,sys; print(next(p["id"] for p in json.load(sys.stdin)["items"] if p["code"] == "BENCH-09"))')
  FILTER="status=approved&program_id=$PROGRAM"
  # The cursors equivalent to page 1,000 (500 of the filtered list, which has about 625): the ones the page
  # before hands on.
  DEEP=$(get "/api/v1/applications?page=999" "$REVIEWER" | json '["next_cursor"]')
  DEEP_FILTERED=$(get "/api/v1/applications?$FILTER&page=499" "$REVIEWER" | json '["next_cursor"]')
  DEEP_LEDGER=$(get "/api/v1/disbursements?page=999" "$FINANCE" | json '["next_cursor"]')
  # A quarter's submissions (about 45,000 at 10^6), in order of submission; its cursor at page 1,000.
  DATED="submitted_from=2024-01-01&submitted_to=2024-03-31"
  DEEP_DATED=$(get "/api/v1/applications?$DATED&page=999" "$REVIEWER" | json '["next_cursor"]')
  total=$(get "/api/v1/applications?per_page=1" "$REVIEWER" | json '["total"]')
  found=$(get "/api/v1/applications?per_page=1&q=%E4%BC%81%E4%B8%9A04217" "$REVIEWER" | json '["total"]')
  queues=$(get "/api/v1/queues" "$REVIEWER" | json '["queues"]')

  {
    echo "### $backend"
    echo
    echo "Seeding: ${seeded}; load average before the rows: $(cut -d' ' -f1-3 /proc/loadavg). The reviewer's list holds ${total} applications; \`q=企业04217\` finds ${found}; queues today: \`${queues}\`."
    echo
    echo "| # | request | p99 at 8 | req/s at 8 | p99 at 64 | req/s at 64 | errors |"
    echo "|---|---|---|---|---|---|---|"
    row "1" "/api/v1/applications" "$REVIEWER"
    row "1" "/api/v1/applications?page=1000" "$REVIEWER"
    row "1" "/api/v1/applications?after=$DEEP" "$REVIEWER"
    row "2" "/api/v1/applications?status=submitted" "$REVIEWER"
    row "2" "/api/v1/applications?program_id=$PROGRAM" "$REVIEWER"
    row "2" "/api/v1/applications?$FILTER" "$REVIEWER"
    row "2" "/api/v1/applications?$FILTER&page=500" "$REVIEWER"
    row "2" "/api/v1/applications?$FILTER&after=$DEEP_FILTERED" "$REVIEWER"
    row "2" "/api/v1/applications?company_id=$COMPANY_ID" "$REVIEWER"
    row "2" "/api/v1/applications?$DATED" "$REVIEWER"
    row "2" "/api/v1/applications?$DATED&after=$DEEP_DATED" "$REVIEWER"
    row "3" "/api/v1/applications?q=%E4%BC%81%E4%B8%9A04217" "$REVIEWER"
    row "3" "/api/v1/applications?q=bench-07-00012" "$REVIEWER"
    row "3" "/api/v1/applications?q=000004217" "$REVIEWER"
    row "4" "/api/v1/queues" "$REVIEWER"
    row "5" "/api/v1/disbursements" "$FINANCE"
    row "5" "/api/v1/disbursements?after=$DEEP_LEDGER" "$FINANCE"
    row "5" "/api/v1/disbursements?program_id=$PROGRAM" "$FINANCE"
    row "6" "/api/v1/companies" "$REVIEWER"
    row "6" "/api/v1/companies?q=%E4%BC%81%E4%B8%9A04217" "$REVIEWER"
    row "6" "/api/v1/users" "$ADMIN"
    row "6" "/api/v1/audit-events" "$ADMIN"
    row "6" "/api/v1/public-notices" "$REVIEWER"
    row "7" "/api/v1/applications/$APPLICATION" "$COMPANY"
    echo
    echo "Load average after the rows: $(cut -d' ' -f1-3 /proc/loadavg)."
    if [ "$RUSH" -gt 0 ]; then
      echo
      echo "Deadline rush, $RUSH companies submitting at once: \`$(python3 bench/rush.py "$BASE" "$ADMIN" "$RUSH")\`"
    fi
    echo
  } >> "$OUT"
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=0
  if [ "$backend" = postgres ] && [ -z "$KEEP" ]; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS portal_lists WITH (FORCE)"
  fi
done
cat "$OUT"
