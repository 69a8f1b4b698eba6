"""The deadline rush: many verified companies submitting complete applications to one programme at once.

Usage: rush.py BASE_URL ADMIN_TOKEN COUNT. Prints one JSON line with the outcome.
Publishing the programme announces it to every company that qualifies. A real rush comes days later, so the
clock starts only once that announcement is recorded (`announced_after` says how long that took); its emails
may still be going out. The service under test looks for due announcements every second
(`APP_OUTREACH__POLL_INTERVAL_SECS=1` in the bench scripts), not every minute as in production.
"""
import json
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

BASE, ADMIN, COUNT = sys.argv[1], sys.argv[2], int(sys.argv[3])
PASSWORD = "bench-password-violet-42"


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


now = datetime.now(timezone.utc)
program = {
    "code": "RUSH-%d" % int(time.time()), "title": "截止日冲刺测试", "category": "other", "summary": "截止前集中提交",
    "guide": {k: "—" for k in ["beneficiaries", "conditions", "award_standard", "deadline_note", "contact_phone",
                               "consulting_address", "policy_basis"]},
    "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat(),
    "budget_fen": 10**15, "max_award_fen": 10**9, "public_notice_days": 5, "payment_due_days": 60,
    "min_expert_reviews": 0, "eligibility_rules": [{"type": "company_verified"}], "required_materials": [],
    "form_fields": [{"key": "project_name", "label": "项目名称", "type": "text", "required": True}],
}
status, created = call("POST", "/api/v1/programs", program, ADMIN)
assert status == 201, (status, created)
program_id = created["id"]
assert call("POST", "/api/v1/programs/%d/publish" % program_id, {}, ADMIN)[0] == 200


def wait_for_the_announcement():
    """Until the announcement has told some companies and tells no more."""
    started, told = time.monotonic(), 0
    while time.monotonic() - started < 900:
        time.sleep(5)
        status, ledger = call("GET", "/api/v1/programs/%d/outreach?per_page=1" % program_id, token=ADMIN)
        assert status == 200, (status, ledger)
        if ledger["notified"] == told > 0:
            break
        told = ledger["notified"]
    assert told > 0, "the programme was never announced: is outreach.poll_interval_secs short enough?"
    return round(time.monotonic() - started, 1)


announced_after = wait_for_the_announcement()


def prepare(n):
    status, signed = call("POST", "/api/v1/auth/login", {"email": "company%d@bench.example" % n, "password": PASSWORD})
    assert status == 200, (status, signed)
    token = signed["access_token"]
    body = {"program_id": program_id, "requested_amount_fen": 100000, "form_data": {"project_name": "冲刺"}}
    status, draft = call("POST", "/api/v1/applications", body, token)
    assert status == 201, (status, draft)
    return token, draft["id"], draft["version"]


with ThreadPoolExecutor(max_workers=16) as pool:
    drafts = list(pool.map(prepare, range(COUNT)))


def submit(draft):
    token, application, version = draft
    return call("POST", "/api/v1/applications/%d/actions" % application, {"action": "submit", "version": version}, token)


started = time.monotonic()
with ThreadPoolExecutor(max_workers=256) as pool:
    outcomes = list(pool.map(submit, drafts))
elapsed = time.monotonic() - started
errors = [o for o in outcomes if o[0] != 200]
numbers = sorted(o[1]["reference_no"] for o in outcomes if o[0] == 200)
expected = ["%s-%04d" % (program["code"], n) for n in range(1, COUNT + 1)]
statuses = {o[1]["status"] for o in outcomes if o[0] == 200}
report = {"submitted": len(outcomes) - len(errors), "errors": len(errors), "seconds": round(elapsed, 2),
          "consecutive": numbers == expected, "statuses": sorted(statuses), "announced_after": announced_after}
if errors:
    report["error_statuses"] = sorted({o[0] for o in errors})
print(json.dumps(report))
