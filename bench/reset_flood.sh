#!/usr/bin/env bash
# A real user's sign-in during a flood of password-reset confirmations: wrk sends confirmations with made-up
# tokens (each naming a new password) at CONNECTIONS connections for DURATION, while one user signs in every
# 200 ms. Prints, per backend, what the flood got and how the user's sign-ins fared, beside the same sign-ins
# with no flood, as a Markdown table for BENCHMARKS.md. Usage: bench/reset_flood.sh [PORTAL_BINARY]; without one
# it builds the release binary with the `bench` feature (shared with the other scripts). wrk on loopback.
# Knobs: DURATION (20s), CONNECTIONS (64), BACKENDS ("sqlite postgres").
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PORT=18083
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
# (A pid of 0 would name this whole process group, the caller's shell included.)
trap '[ "${SERVER:-0}" = 0 ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
if [ $# -eq 0 ]; then cargo build --release --quiet --features bench; fi
BIN=${1:-$PWD/target/release/portal}
EMAIL=someone@park.example PASSWORD="a long admin passphrase"

# sign_ins SECONDS: one sign-in every 200 ms for that long; prints "answered | all 200 | p50 | p99 | slowest"
sign_ins() {
  python3 - "$BASE" "$EMAIL" "$PASSWORD" "$1" <<'PY'
import json, sys, time, urllib.request, urllib.error
base, email, password, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
body = json.dumps({"email": email, "password": password}).encode()
took, statuses, end = [], [], time.monotonic() + seconds
while time.monotonic() < end:
    started = time.monotonic()
    request = urllib.request.Request(base + "/api/v1/auth/login", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            statuses.append(response.status)
    except urllib.error.HTTPError as e:
        statuses.append(e.code)
    took.append((time.monotonic() - started) * 1000)
    time.sleep(max(0, 0.2 - (time.monotonic() - started)))
took.sort()
ms = lambda q: f"{took[min(len(took) - 1, int(q * len(took)))]:.0f} ms"
print(f"{len(took)} | {'yes' if set(statuses) == {200} else sorted(set(statuses))} | {ms(0.5)} | {ms(0.99)} | {took[-1]:.0f} ms")
PY
}

echo "| backend | flood | flood req/s | flood answers | sign-ins | all 200 | p50 | p99 | slowest |"
echo "|---|---|---|---|---|---|---|---|---|"
for backend in $BACKENDS; do
  URL=$(fresh_database "$backend" portal_flood_bench)
  export APP_DATABASE__URL=$URL APP_SERVER__PORT=$PORT APP_LOG__FILTER=warn APP_MAIL__TRANSPORT=memory \
         APP_STORAGE__UPLOAD_DIR="$WORK/uploads"
  echo "$PASSWORD" | "$BIN" create-admin --email "$EMAIL" >/dev/null
  "$BIN" serve & SERVER=$!
  wait_ready "$BASE"

  seconds=${DURATION%s}
  echo "| $backend | none | | | $(sign_ins "$seconds") |"
  flood_answer=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"token":"0123456789abcdef","new_password":"a new long passphrase 42"}' "$BASE/api/v1/auth/password-reset/confirm")
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/reset_flood.lua "$BASE/api/v1/auth/password-reset/confirm" \
    > "$WORK/flood.txt" &
  FLOOD=$!
  sleep 1
  during=$(sign_ins "$((seconds - 2))")
  wait "$FLOOD"
  rps=$(grep 'Requests/sec' "$WORK/flood.txt" | awk '{printf "%.0f", $2}')
  answers=$(grep '^answers:' "$WORK/flood.txt" | cut -d' ' -f2-)
  echo "| $backend | $CONNECTIONS connections of reset confirmations | $rps | $answers; a sample: $flood_answer | $during |"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
done
