#!/usr/bin/env bash
# Whether the busiest read and the deadline rush get slower as the park grows (issue 13): one release build
# against a small and a province-sized data set of each backend, measured in turns, ROUNDS times, so that
# whatever else the machine does weighs on both sizes alike. Each turn starts the service on one size, loads
# a company's read of one of its seeded awards with wrk (8 and 64 connections, after a warm-up), then runs
# the deadline rush (bench/rush.py: a programme announced to every company, RUSH of them submitting at once
# while the announcement's mail goes out), stops the service and drops the mail still queued.
# Prints a Markdown section (BENCHMARKS.md "Lists at scale" holds one) and keeps it in $OUT.
# Knobs: ROUNDS (3), DURATION (10s), RUSH (1000), BACKENDS ("sqlite postgres"), BIN (target/release/portal,
# built if absent), OUT (/tmp/scale-results.md), PORT (18082), KEEP (a directory: the SQLite databases stay
# there and PostgreSQL's `portal_lists` and `portal_lists_small` stay too, and are reused by a later run, or
# by bench/lists.sh with the same KEEP, which shares the large ones; empty: seed afresh, drop after).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
RUSH=${RUSH:-1000}
BACKENDS=${BACKENDS:-"sqlite postgres"}
OUT=${OUT:-/tmp/scale-results.md}
KEEP=${KEEP:-}
PORT=${PORT:-18082}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
# (A pid of 0 would name this whole process group, the caller's shell included.)
trap '[ "${SERVER:-0}" = 0 ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

for tool in wrk sqlite3; do
  command -v $tool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $tool; }
done
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/portal}
[ -x "$BIN" ] || cargo build --release --quiet --features bench

declare -A SIZES=([small]="--companies 10000 --applications 100000 --payments 1000000"
                  [large]="--companies 100000 --applications 1000000 --payments 5000000")
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
login() {
  curl -fsS "$BASE/api/v1/auth/login" -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" |
    json '["access_token"]'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
in_ms() { sed -E 's/([0-9.]+)us$/\1 0.001/; s/([0-9.]+)ms$/\1 1/; s/([0-9.]+)s$/\1 1000/' | awk '{ printf "%.2f", $1 * $2 }'; }

# url BACKEND SIZE: where that data set is kept.
url() {
  local name=portal_lists file=portal.db
  [ "$2" = small ] && name=portal_lists_small file=portal-small.db
  if [ "$1" = sqlite ]; then echo "sqlite://$DATA/$file"; else echo "postgres://postgres@127.0.0.1:5432/$name"; fi
}

# prepare BACKEND SIZE: seeds the data set unless a kept one is there, migrates it, and takes fresh statistics.
prepare() {
  local url name
  url=$(url "$1" "$2") name=${url##*/}
  export APP_DATABASE__URL=$url
  if [ "$1" = sqlite ] && [ -s "${url#sqlite://}" ]; then
    "$BIN" migrate
  elif [ "$1" = postgres ] && psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    "$BIN" migrate
  else
    [ "$1" = postgres ] && psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name"
    # shellcheck disable=SC2086 # the sizes are several arguments
    "$BIN" seed-bench ${SIZES[$2]} >/dev/null
    echo "a long admin passphrase" | "$BIN" create-admin --email admin@bench.example >/dev/null
  fi
  quieten "$url"
  if [ "$1" = postgres ]; then psql -q "$url" -c "VACUUM ANALYZE"; else sqlite3 "${url#sqlite://}" "ANALYZE"; fi
}

# turn BACKEND SIZE ROUND: one table row.
turn() {
  export APP_DATABASE__URL
  APP_DATABASE__URL=$(url "$1" "$2")
  "$BIN" serve & SERVER=$!
  for _ in $(seq 1 100); do curl -fs "$BASE/health/ready" >/dev/null && break; sleep 0.2; done
  local company admin application
  company=$(login company0@bench.example bench-password-violet-42)
  admin=$(login admin@bench.example "a long admin passphrase")
  # A seeded award, the same at both sizes (not an application of an earlier turn's rush).
  application=$(curl -fsS "$BASE/api/v1/applications?status=approved&per_page=1" -H "Authorization: Bearer $company" |
    json '["items"][0]["id"]')
  local read=(-t2 -H "Authorization: Bearer $company" "$BASE/api/v1/applications/$application")
  wrk -c8 -d2s "${read[@]}" > /dev/null
  wrk -c8 -d"$DURATION" --latency "${read[@]}" > "$WORK/c8.txt"
  wrk -c64 -d"$DURATION" --latency "${read[@]}" > "$WORK/c64.txt"
  local rush=skipped
  [ "$RUSH" -gt 0 ] && rush=$(python3 bench/rush.py "$BASE" "$admin" "$RUSH")
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=0
  quieten "$APP_DATABASE__URL"
  local p99 rps seconds
  p99=$(grep -E '^\s+99%' "$WORK/c8.txt" | awk '{print $2}' | in_ms)
  rps=$(grep 'Requests/sec' "$WORK/c64.txt" | awk '{printf "%.0f", $2}')
  seconds=$(echo "$rush" | json '["seconds"]' 2>/dev/null || echo "")
  echo "$1 $2 $p99 $rps ${seconds:-0}" >> "$WORK/figures"
  echo "| $1 | $2 | $3 | $p99 | $rps | \`$rush\` |"
}

DATA=${KEEP:-$WORK}
mkdir -p "$DATA"
export APP_SERVER__PORT=$PORT APP_LOG__FILTER=warn APP_MAIL__TRANSPORT=memory APP_OUTREACH__POLL_INTERVAL_SECS=1 \
       APP_STORAGE__UPLOAD_DIR="$WORK/uploads" APP_SERVER__WORKERS=2
{
  echo "### Machine and sizes"
  echo
  echo "$(nproc) cores (shared), $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -sr); release build; wrk -t2 -d$DURATION on loopback; $ROUNDS rounds."
  echo "Small: \`portal seed-bench ${SIZES[small]}\`; large: \`portal seed-bench ${SIZES[large]}\`."
  echo
  echo "| backend | size | round | read: p99 at 8 (ms) | read: req/s at 64 | rush of $RUSH |"
  echo "|---|---|---|---|---|---|"
} > "$OUT"
for backend in $BACKENDS; do
  for size in small large; do prepare "$backend" "$size"; done
  for round in $(seq 1 "$ROUNDS"); do
    for size in small large; do turn "$backend" "$size" "$round" >> "$OUT"; done
  done
done
{
  echo
  echo "Medians over the rounds:"
  echo
  echo "| backend | size | read: p99 at 8 (ms) | read: req/s at 64 | rush (s) |"
  echo "|---|---|---|---|---|"
  for backend in $BACKENDS; do
    for size in small large; do
      column() { awk -v b="$backend" -v s="$size" -v c="$1" '$1 == b && $2 == s { print $c }' "$WORK/figures" | median; }
      echo "| $backend | $size | $(column 3) | $(column 4) | $(column 5) |"
    done
  done
} >> "$OUT"
if [ -z "$KEEP" ]; then
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS portal_lists WITH (FORCE)" \
       -c "DROP DATABASE IF EXISTS portal_lists_small WITH (FORCE)"
fi
cat "$OUT"
