#!/usr/bin/env bash
# The deadline rush across two app instances behind HAProxy, on one PostgreSQL, against the same rush through
# HAProxy to one instance: RUSH companies (5,000) submit complete applications to one programme at once
# (bench/rush.py: 0 errors and consecutive reference numbers expected), then signed-in reads with wrk.
#
# Usage: bench/two_instances.sh [PORTAL_BINARY]. The binary is a release build with the `bench` feature
# (`cargo build --release --features bench`; the default is $CARGO_TARGET_DIR or target, /release/portal).
# Needs PostgreSQL at 127.0.0.1:5432 (trust auth); installs haproxy and wrk from Debian's packages if missing.
# Each instance has production's pool (16 connections; POOL_SIZE) and the default 2 s to get one, past which a
# request is 503 `unavailable`. Knobs: RUSH (5000), DURATION (10s), CONNECTIONS (64), POOL_SIZE (16).
# Prints a Markdown table; exits non-zero when a rush had an error or a gap in its reference numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/portal}
RUSH=${RUSH:-5000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
FRONT=18090
PORTS=(18091 18092)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$BIN" ] || { echo "no portal binary at $BIN: cargo build --release --features bench" >&2; exit 1; }
"$BIN" --help | grep -q seed-bench || { echo "$BIN lacks seed-bench: build it with --features bench" >&2; exit 1; }
for tool in haproxy wrk; do
  command -v "$tool" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool"; }
done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL at 127.0.0.1:5432 does not answer" >&2; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
rps() { grep 'Requests/sec' "$1" | awk '{printf "%.0f", $2}'; }
p99() { grep -E '^\s+99%' "$1" | awk '{print $2}'; }

psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS portal_two WITH (FORCE)" -c "CREATE DATABASE portal_two"
export APP_DATABASE__URL=postgres://postgres@127.0.0.1:5432/portal_two APP_LOG__FILTER=warn \
       APP_MAIL__TRANSPORT=memory APP_OUTREACH__POLL_INTERVAL_SECS=1 APP_STORAGE__UPLOAD_DIR="$WORK/uploads" \
       APP_SERVER__TRUSTED_PROXIES=127.0.0.1 APP_DATABASE__POOL_SIZE=${POOL_SIZE:-16}
"$BIN" seed-bench --companies "$RUSH" --programs 2 --applications 1000 --payments 0 >/dev/null
echo "a long admin passphrase" | "$BIN" create-admin --email admin@bench.example >/dev/null

start_instances() { # COUNT: that many instances, each on its port, with a HAProxy in front of them all
  local count=$1 servers=""
  for i in $(seq 0 $((count - 1))); do
    APP_SERVER__PORT=${PORTS[$i]} "$BIN" serve & PIDS+=($!)
    servers+="    server app$i 127.0.0.1:${PORTS[$i]} check"$'\n'
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:${PORTS[$i]}/health/ready" >/dev/null && break; sleep 0.2; done
  done
  cat > "$WORK/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend portal
    bind 127.0.0.1:$FRONT
    default_backend apps
backend apps
    balance roundrobin
    option httpchk GET /health/ready
$servers
EOF
  haproxy -f "$WORK/haproxy.cfg" -db & PIDS+=($!)
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$FRONT/health/ready" >/dev/null && break; sleep 0.2; done
}

stop_instances() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

BASE="http://127.0.0.1:$FRONT"
echo "| instances behind HAProxy | deadline rush: $RUSH companies submit at once | signed-in reads, requests/s | p99 |"
echo "|---|---|---|---|"
for count in 1 2; do
  start_instances "$count"
  login() { curl -fs "$BASE/api/v1/auth/login" -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" | json '["access_token"]'; }
  ADMIN=$(login admin@bench.example "a long admin passphrase")
  COMPANY=$(login company0@bench.example bench-password-violet-42)
  rush=$(python3 bench/rush.py "$BASE" "$ADMIN" "$RUSH")
  APPLICATION=$(curl -fs "$BASE/api/v1/applications?per_page=1" -H "Authorization: Bearer $COMPANY" | json '["items"][0]["id"]')
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $COMPANY" \
    "$BASE/api/v1/applications/$APPLICATION" > "$WORK/reads-$count.txt"
  echo "| $count | $rush | $(rps "$WORK/reads-$count.txt") | $(p99 "$WORK/reads-$count.txt") |"
  echo "$rush" | python3 -c "import json,sys; r=json.load(sys.stdin); sys.exit(0 if r['errors'] == 0 and r['consecutive'] else 1)" \
    || { echo "the rush across $count instance(s) had errors or a gap in the reference numbers" >&2; FAILED=1; }
  stop_instances
done
exit "${FAILED:-0}"
