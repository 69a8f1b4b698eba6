#!/usr/bin/env bash
# Benchmarks, reproducible on one machine: a release build with the `bench` feature, against SQLite and
# then PostgreSQL (127.0.0.1:5432), each seeded with `portal seed-bench`, loaded with wrk on loopback.
# Writes BENCHMARKS.md, keeping its hand-written part from "## Reading the figures" on. Knobs: DURATION (10s), CONNECTIONS (64), RUSH (1000), BACKENDS ("sqlite postgres").
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROOT=$PWD
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
RUSH=${RUSH:-1000}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PORT=18080
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
RESULTS="$WORK/results.md"
# (A pid of 0 would name this whole process group, the caller's shell included.)
trap '[ "${SERVER:-0}" = 0 ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

for tool in wrk sqlite3; do
  command -v "$tool" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool"; }
done
cargo build --release --quiet --features bench
BIN="$ROOT/target/release/portal"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
rps() { grep 'Requests/sec' "$1" | awk '{printf "%.0f", $2}'; }
p99() { grep -E '^\s+99%' "$1" | awk '{print $2}'; }
mean() { grep -E '^\s+Latency' "$1" | awk '{print $2}'; }

# wrk NAME PATH [TOKEN] [extra wrk args...]: a fixed-duration run, its output kept as $WORK/NAME.txt.
load() {
  local name=$1 path=$2 token=${3:-}; shift 3 || shift $#
  local auth=()
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "${auth[@]}" "$@" "$BASE$path" > "$WORK/$name.txt"
}

peak_rss_during() { # PID SECONDS: the highest resident set size sampled, in MiB
  local pid=$1 until=$((SECONDS + $2)) peak=0 rss
  while [ $SECONDS -lt $until ]; do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 0.1
  done
  echo $((peak / 1024))
}

# The report's aggregate, as db/reports.rs builds it for group_by=program over every payment.
REPORT_SQL="SELECT pr.code, pr.title, COUNT(*), SUM(a.approved_amount_fen), SUM(p.in_window), SUM(a.approved_amount_fen - COALESCE(p.to_date, 0)) FROM applications a JOIN programs pr ON pr.id = a.program_id JOIN companies c ON c.id = a.company_id LEFT JOIN (SELECT d.application_id, SUM(CASE WHEN d.paid_on >= '0001-01-01' AND d.paid_on <= '9999-12-31' THEN CASE WHEN d.kind = 'payment' THEN d.amount_fen ELSE -d.amount_fen END ELSE 0 END) AS in_window, SUM(CASE WHEN d.paid_on <= '9999-12-31' THEN CASE WHEN d.kind = 'payment' THEN d.amount_fen ELSE -d.amount_fen END ELSE 0 END) AS to_date FROM disbursements d GROUP BY d.application_id) p ON p.application_id = a.id WHERE a.status IN ('approved', 'disbursed') GROUP BY pr.code, pr.title ORDER BY pr.code"

direct_sql_ms() { # BACKEND: mean of 5 runs of the aggregate straight in sqlite3 or psql, in ms
  local total=0 start
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    if [ "$1" = sqlite ]; then sqlite3 "$WORK/portal.db" "$REPORT_SQL" >/dev/null; else psql -q -h 127.0.0.1 -U postgres -d portal_bench -c "$REPORT_SQL" >/dev/null; fi
    total=$((total + $(date +%s%N) - start))
  done
  echo $((total / 5000000))
}

http_ms() { # PATH TOKEN: mean latency of one-at-a-time requests over 5 s, in ms
  wrk -t1 -c1 -d5s -H "Authorization: Bearer $2" "$BASE$1" | grep -E '^\s+Latency' | awk '{v=$2; if (v ~ /ms$/) {sub(/ms/,"",v); print v} else if (v ~ /us$/) {sub(/us/,"",v); print v/1000} else {sub(/s/,"",v); print v*1000}}'
}

{
  echo "## Machine"
  echo
  echo "$(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -sr); wrk -t2 -c$CONNECTIONS -d$DURATION on loopback; release build."
  echo
} > "$RESULTS"

for backend in $BACKENDS; do
  URL=$(fresh_database "$backend" portal_bench)
  export APP_DATABASE__URL=$URL APP_SERVER__PORT=$PORT APP_LOG__FILTER=warn APP_MAIL__TRANSPORT=memory \
         APP_OUTREACH__POLL_INTERVAL_SECS=1 APP_STORAGE__UPLOAD_DIR="$WORK/uploads" APP_SERVER__WORKERS=2
  seeded=$( { /usr/bin/time -f %e "$BIN" seed-bench >/dev/null; } 2>&1 | tail -1 )
  echo "a long admin passphrase" | "$BIN" create-admin --email admin@bench.example >/dev/null
  "$BIN" serve & SERVER=$!
  wait_ready "$BASE"

  login() { curl -fs "$BASE/api/v1/auth/login" -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" | json '["access_token"]'; }
  COMPANY=$(login company0@bench.example bench-password-violet-42)
  ADMIN=$(login admin@bench.example "a long admin passphrase")
  APPLICATION=$(curl -fs "$BASE/api/v1/applications?per_page=1" -H "Authorization: Bearer $COMPANY" | json '["items"][0]["id"]')

  load live /health/live ""
  load pk /bench/primary-key/1 ""
  load application "/api/v1/applications/$APPLICATION" "$COMPANY"
  load list_first "/api/v1/applications?status=approved&program_id=1&page=1" "$ADMIN"
  load list_deep "/api/v1/applications?status=approved&program_id=1&page=200" "$ADMIN"
  report_program=$(http_ms "/api/v1/reports/disbursements?group_by=program" "$ADMIN")
  report_month=$(http_ms "/api/v1/reports/disbursements?group_by=month" "$ADMIN")
  direct=$(direct_sql_ms "$backend")

  load login /api/v1/auth/login "" -s bench/login.lua & FLOOD=$!
  peak=$(peak_rss_during "$SERVER" 9)
  wait $FLOOD
  CONNECTIONS=$((CONNECTIONS / 2)) load login_half /api/v1/auth/login "" -s bench/login.lua & FLOOD=$!
  CONNECTIONS=$((CONNECTIONS / 2)) load reads_flood "/api/v1/applications/$APPLICATION" "$COMPANY"
  wait $FLOOD
  CONNECTIONS=$((CONNECTIONS / 2)) load reads_solo "/api/v1/applications/$APPLICATION" "$COMPANY"
  rush=$(python3 bench/rush.py "$BASE" "$ADMIN" "$RUSH")

  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=0
  ratio() { python3 -c "print(f'{$1 / $2 * 100:.0f} %')"; }
  {
    echo "## $backend"
    echo
    echo "Seeding 10,000 companies, 100,000 applications in every status and 1,000,000 payments: ${seeded} s."
    echo
    echo "| # | request | requests/s | p99 | note |"
    echo "|---|---|---|---|---|"
    echo "| 1 | GET /health/live (framework ceiling) | $(rps "$WORK/live.txt") | $(p99 "$WORK/live.txt") | |"
    echo "| 2 | GET /bench/primary-key/1 (stack ceiling) | $(rps "$WORK/pk.txt") | $(p99 "$WORK/pk.txt") | |"
    echo "| 3 | GET /api/v1/applications/{id}, signed in | $(rps "$WORK/application.txt") | $(p99 "$WORK/application.txt") | $(ratio "$(rps "$WORK/application.txt")" "$(rps "$WORK/pk.txt")") of (2); target ≥ 50 % |"
    echo "| 4 | GET /api/v1/applications?status&program_id, page 1 | $(rps "$WORK/list_first.txt") | $(p99 "$WORK/list_first.txt") | |"
    echo "| 4 | the same, page 200 | $(rps "$WORK/list_deep.txt") | $(p99 "$WORK/list_deep.txt") | |"
    echo "| 5 | report group_by=program, one at a time | | | mean ${report_program} ms; the SQL alone in $( [ "$backend" = sqlite ] && echo sqlite3 || echo psql ): ${direct} ms; target ≤ 2× |"
    echo "| 5 | report group_by=month, one at a time | | | mean ${report_month} ms |"
    echo "| 6 | POST /api/v1/auth/login (argon2id m=19456 KiB, t=2) | $(rps "$WORK/login.txt") | $(p99 "$WORK/login.txt") | peak RSS ${peak} MiB; target < 256 MiB |"
    echo "| 7 | reads (3) at c=$((CONNECTIONS / 2)) alone | $(rps "$WORK/reads_solo.txt") | $(p99 "$WORK/reads_solo.txt") | |"
    echo "| 7 | the same reads during a login flood at c=$((CONNECTIONS / 2)) | $(rps "$WORK/reads_flood.txt") | $(p99 "$WORK/reads_flood.txt") | $(ratio "$(rps "$WORK/reads_flood.txt")" "$(rps "$WORK/reads_solo.txt")") of alone; target ≥ 50 % |"
    echo "| 8 | deadline rush: $RUSH companies submit at once | | | $rush |"
    echo
  } >> "$RESULTS"
done

READING=$(sed -n '/^## Reading the figures/,$p' BENCHMARKS.md 2>/dev/null || true)
{
  echo "# Benchmarks"
  echo
  echo "Rerun with \`bench/run.sh\` (it installs wrk and sqlite3, builds with \`--features bench\`, and seeds its own"
  echo "databases: a temporary SQLite file and \`portal_bench\` on the local PostgreSQL). Figures from one run, $(date -u +%Y-%m-%d)."
  echo
  cat "$RESULTS"
  [ -z "$READING" ] || printf '%s\n' "$READING"
} > BENCHMARKS.md
cat BENCHMARKS.md
