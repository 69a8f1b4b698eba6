#!/usr/bin/env bash
# Policy outreach at scale: one programme evaluated against 100,000 companies (the lists data set, from
# `portal seed-bench`), on SQLite and then PostgreSQL (127.0.0.1:5432), with a release build of the `bench`
# feature. For each backend it publishes two programmes through the API: one every company qualifies for (the
# worst case: 100,000 announcements written) and one for a quarter of them; reads each run's phases from the
# service's log (read the candidates, decide in Rust, write in short transactions); changes a company profile
# every 50 ms while the runs go, to show that no write waits on them; then times the ledger (a page, CSV, XLSX)
# and a second, daily run of the narrow programme. Prints a Markdown table for BENCHMARKS.md.
# Knobs: COMPANIES (100000), BACKENDS ("sqlite postgres").
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
COMPANIES=${COMPANIES:-100000}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PORT=18081
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d)
# (A pid of 0 would name this whole process group, the caller's shell included.)
trap 'for pid in "${SERVER:-0}" "${WRITER:-0}"; do [ "$pid" = 0 ] || kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

cargo build --release --quiet --features bench
BIN="${CARGO_TARGET_DIR:-target}/release/portal"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
call() { # METHOD PATH TOKEN [BODY]
  curl -fsS -X "$1" "$BASE$2" -H "Authorization: Bearer $3" -H 'content-type: application/json' ${4:+-d "$4"}
}
seconds() { # PATH TOKEN: the time of one GET, in seconds, and the size of its body
  curl -fsS -o "$WORK/body" -w '%{time_total}' "$BASE$1" -H "Authorization: Bearer $2" >"$WORK/time"
  echo "$(cat "$WORK/time") s, $(($(stat -c %s "$WORK/body") / 1024)) KiB"
}
run_line() { # PROGRAM [NTH]: the NTH (1) log line of a finished outreach run of PROGRAM, waited for
  local program=$1 nth=${2:-1}
  for _ in $(seq 1 1200); do
    line=$(grep '"programme outreach run"' "$WORK/server.log" | grep "\"program_id\":$program," | sed -n "${nth}p" || true)
    [ -n "$line" ] && { echo "$line"; return; }
    sleep 0.25
  done
  echo "no run of programme $program in the log" >&2; exit 1
}
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
program_body() { # CODE RULES
  python3 - "$1" "$2" <<'EOF'
import json, sys, datetime
now = datetime.datetime.now(datetime.timezone.utc)
print(json.dumps({
    "code": sys.argv[1], "title": f"外联基准测试专项资金 {sys.argv[1]}", "category": "other",
    "summary": "用于性能测试的政策项目",
    "guide": {"beneficiaries": "园区企业", "conditions": "见申报条件", "award_standard": "按评审结果",
              "deadline_note": "逾期不予受理", "contact_phone": "0756-3612345",
              "consulting_address": "高新区科技产业局", "policy_basis": "《高新区产业扶持办法》"},
    "opens_at": (now - datetime.timedelta(hours=1)).isoformat(), "closes_at": (now + datetime.timedelta(days=30)).isoformat(),
    "budget_fen": 1_000_000_000_000, "max_award_fen": 100_000_000, "public_notice_days": 5, "payment_due_days": 60,
    "min_expert_reviews": 0, "eligibility_rules": json.loads(sys.argv[2]), "required_materials": [],
    "form_fields": [{"key": "project_name", "label": "项目名称", "type": "text", "required": True, "max_length": 100}],
}, ensure_ascii=False))
EOF
}

{
  echo "$(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(uname -sr); release build; $COMPANIES verified companies, each with last year's figures and one user."
  echo
  echo "| backend | programme | candidates | qualify | told | read | decide | write | whole run |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$WORK/runs.md"
: > "$WORK/ledger.md"
: > "$WORK/writes.md"

for backend in $BACKENDS; do
  URL=$(fresh_database "$backend" portal_outreach)
  # The mail worker looks once at start-up and then waits an hour, so the runs are measured alone.
  export APP_DATABASE__URL=$URL APP_SERVER__PORT=$PORT APP_LOG__FORMAT=json APP_LOG__FILTER=warn,portal=info \
         APP_MAIL__TRANSPORT=memory APP_MAIL__POLL_INTERVAL_MS=3600000 APP_STORAGE__UPLOAD_DIR="$WORK/uploads" \
         APP_SERVER__WORKERS=2 APP_OUTREACH__POLL_INTERVAL_SECS=1 APP_OUTREACH__RUN_INTERVAL_SECS=60
  seeded=$( { /usr/bin/time -f %e "$BIN" seed-bench --companies "$COMPANIES" --applications 100000 --payments 100000 >/dev/null; } 2>&1 | tail -1 )
  echo "a long admin passphrase" | "$BIN" create-admin --email admin@bench.example >/dev/null
  # seed-bench's own twenty programmes are published too: closed here, so only this script's runs are measured.
  CLOSE="UPDATE programs SET status = 'closed' WHERE code LIKE 'BENCH-%'"
  if [ "$backend" = sqlite ]; then sqlite3 "$WORK/portal.db" "$CLOSE"; else psql -q -h 127.0.0.1 -U postgres -d portal_outreach -c "$CLOSE"; fi
  "$BIN" serve >"$WORK/server.log" 2>&1 & SERVER=$!
  wait_ready "$BASE"
  login() { curl -fs "$BASE/api/v1/auth/login" -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" | json '["access_token"]'; }
  ADMIN=$(login admin@bench.example "a long admin passphrase")
  COMPANY=$(login company0@bench.example bench-password-violet-42)
  call PATCH /api/v1/companies/me "$COMPANY" '{"notify_new_programs": false}' >/dev/null

  # A company changes its profile every 50 ms (each change one write transaction): 15 s alone, then while the
  # runs go.
  writer() {
    while :; do
      curl -fsS -o /dev/null -w '%{time_total}\n' -X PATCH "$BASE/api/v1/companies/me" -H "Authorization: Bearer $COMPANY" \
        -H 'content-type: application/json' -d '{"contact_phone": "0756-3612345"}' >>"$1" || echo fail >>"$1"
      sleep 0.05
    done
  }
  stats() { # FILE: count, median, 99th percentile and slowest of the times in FILE, and the failures
    local failed
    failed=$(grep -c fail "$1" || true)
    grep -v fail "$1" | sort -g | awk -v failed="$failed" '{v[NR]=$1} END {printf "%d changes, median %.3f s, p99 %.3f s, slowest %.3f s, %d failed", NR, v[int((NR+1)/2)], v[int(NR*0.99+0.5)], v[NR], failed}'
  }
  writer "$WORK/alone.txt" & WRITER=$!
  sleep 15
  kill $WRITER; wait $WRITER 2>/dev/null || true
  writer "$WORK/writes.txt" & WRITER=$!

  everyone='[{"type":"company_verified"},{"type":"min_employees","count":50},{"type":"min_rd_expense_ratio","percent":5}]'
  quarter='[{"type":"company_verified"},{"type":"industry_in","values":["integrated_circuit","software"]},{"type":"min_years_established","years":3}]'
  declare -A IDS=()
  for name in everyone quarter; do
    rules=${!name}
    id=$(call POST /api/v1/programs "$ADMIN" "$(program_body "OUT-$name" "$rules")" | json '["id"]')
    call POST "/api/v1/programs/$id/publish" "$ADMIN" >/dev/null
    IDS[$name]=$id
    line=$(run_line "$id")
    total=$(( $(field "$line" read_ms) + $(field "$line" decide_ms) + $(field "$line" write_ms) ))
    echo "| $backend | $name | $(field "$line" candidates) | $(field "$line" qualified) | $(field "$line" notified) | $(field "$line" read_ms) ms | $(field "$line" decide_ms) ms | $(field "$line" write_ms) ms | $total ms |" >> "$WORK/runs.md"
  done
  kill $WRITER; wait $WRITER 2>/dev/null || true; WRITER=0
  echo "- $backend, a profile change every 50 ms: alone $(stats "$WORK/alone.txt"); during the two first runs $(stats "$WORK/writes.txt")." >> "$WORK/writes.md"
  rm -f "$WORK/writes.txt" "$WORK/alone.txt"

  # The daily run of the narrow programme: everyone it qualifies was told; the rest are read and decided again.
  line=$(run_line "${IDS[quarter]}" 2)
  total=$(( $(field "$line" read_ms) + $(field "$line" decide_ms) + $(field "$line" write_ms) ))
  echo "| $backend | quarter, next day | $(field "$line" candidates) | $(field "$line" qualified) | $(field "$line" notified) | $(field "$line" read_ms) ms | $(field "$line" decide_ms) ms | $(field "$line" write_ms) ms | $total ms |" >> "$WORK/runs.md"

  for name in everyone quarter; do
    path="/api/v1/programs/${IDS[$name]}/outreach"
    echo "| $backend | $name | $(seconds "$path?applied=false" "$ADMIN") | $(seconds "$path?format=csv" "$ADMIN") | $(seconds "$path?format=xlsx" "$ADMIN") |" >> "$WORK/ledger.md"
  done
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=0
  echo "seeded $backend in $seeded s" >&2
done

cat "$WORK/runs.md"
echo
cat "$WORK/writes.md"
echo
echo "| backend | programme | ledger page 1 (JSON, applied=false) | CSV, every row | XLSX, every row |"
echo "|---|---|---|---|---|"
cat "$WORK/ledger.md"
