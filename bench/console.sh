#!/usr/bin/env bash
# The staff console against the JSON API: the reviewer's dashboard and an application's page, each with a
# console session cookie, beside the JSON read of the same application with a bearer token. Release build
# with the `bench` feature, `portal seed-bench` data, wrk on loopback; prints a Markdown table for BENCHMARKS.md.
# Knobs: DURATION (10s), BACKENDS ("sqlite postgres"), SIZE ("--companies 10000 --applications 100000 --payments 100000").
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${DURATION:-10s}
BACKENDS=${BACKENDS:-"sqlite postgres"}
SIZE=${SIZE:-"--companies 10000 --programs 20 --applications 100000 --payments 100000"}
PORT=18082
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
# (A pid of 0 would name this whole process group, the caller's shell included.)
trap '[ "${SERVER:-0}" = 0 ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --quiet --features bench
BIN="$PWD/target/release/portal"
PASSWORD=bench-password-violet-42

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# run CONNECTIONS PATH HEADER: "req/s | p99" of a fixed-duration wrk run
run() {
  wrk -t2 -c"$1" -d"$DURATION" --latency -H "$3" "$BASE$2" > "$WORK/out.txt"
  grep -q 'Non-2xx' "$WORK/out.txt" && { cat "$WORK/out.txt" >&2; echo "non-2xx answers for $2" >&2; exit 1; }
  printf '%s | %s' "$(grep 'Requests/sec' "$WORK/out.txt" | awk '{printf "%.0f", $2}')" \
    "$(grep -E '^\s+99%' "$WORK/out.txt" | awk '{print $2}')"
}

echo "| backend | request | req/s at 8 | p99 at 8 | req/s at 64 | p99 at 64 |"
echo "|---|---|---|---|---|---|"
for backend in $BACKENDS; do
  URL=$(fresh_database "$backend" portal_console_bench)
  export APP_DATABASE__URL=$URL APP_SERVER__PORT=$PORT APP_LOG__FILTER=warn APP_MAIL__TRANSPORT=memory \
         APP_STORAGE__UPLOAD_DIR="$WORK/uploads" APP_SERVER__WORKERS=2
  # shellcheck disable=SC2086
  "$BIN" seed-bench $SIZE >/dev/null
  "$BIN" serve & SERVER=$!
  wait_ready "$BASE"

  TOKEN=$(curl -fs "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"reviewer@bench.example\",\"password\":\"$PASSWORD\"}" | json '["access_token"]')
  APPLICATION=$(curl -fs "$BASE/api/v1/applications?status=approved&per_page=1" -H "Authorization: Bearer $TOKEN" | json '["items"][0]["id"]')
  curl -fs -o /dev/null -c "$WORK/jar" -H "Origin: $BASE" --data-urlencode email=reviewer@bench.example \
    --data-urlencode "password=$PASSWORD" "$BASE/console/login"
  COOKIE="Cookie: portal_console=$(awk '$6 == "portal_console" {print $7}' "$WORK/jar")"

  for row in "console dashboard|/console/|$COOKIE" \
             "console application page|/console/applications/$APPLICATION|$COOKIE" \
             "JSON application read|/api/v1/applications/$APPLICATION|Authorization: Bearer $TOKEN"; do
    IFS='|' read -r name path header <<< "$row"
    echo "| $backend | $name | $(run 8 "$path" "$header") | $(run 64 "$path" "$header") |"
  done
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
done
