"""Crash safety: kill -9 the service at random moments during a payment and submission load, restart it,
replay every request with its Idempotency-Key, and check that nothing was paid twice or lost.

Usage: bench/kill9.py PORTAL_BINARY [ITERATIONS] (20 by hand), the binary built with `--features bench` (the data
is seeded with `portal seed-bench`). APP_DATABASE__URL picks the database; by
default a temporary SQLite file. Exits non-zero, naming the broken invariant, if one does not hold.
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN = sys.argv[1]
ITERATIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
PORT = 18282
BASE = "http://127.0.0.1:%d" % PORT
WORK = tempfile.mkdtemp()
ENV = dict(os.environ, APP_SERVER__PORT=str(PORT), APP_LOG__FILTER="error", APP_MAIL__TRANSPORT="memory",
           APP_STORAGE__UPLOAD_DIR=os.path.join(WORK, "uploads"), APP_AUTH__ARGON2_MEMORY_KIB="64",
           APP_AUTH__ARGON2_ITERATIONS="1")
ENV.setdefault("APP_DATABASE__URL", "sqlite://" + os.path.join(WORK, "portal.db"))
PASSWORD = "bench-password-violet-42"


def call(method, path, body=None, token=None, key=None):
    request = urllib.request.Request(BASE + path, data=None if body is None else json.dumps(body).encode(), method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if key:
        request.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, None


def start():
    server = subprocess.Popen([BIN, "serve"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if call("GET", "/health/ready")[0] == 200:
            return server
        time.sleep(0.05)
    raise SystemExit("the service did not start")


def login(email, password=PASSWORD):
    return call("POST", "/api/v1/auth/login", {"email": email, "password": password})[1]["access_token"]


def pages(path, token):
    page, items = 1, []
    while True:
        status, body = call("GET", "%s%sper_page=100&page=%d" % (path, "&" if "?" in path else "?", page), token=token)
        assert status == 200, (path, status, body)
        items += body["items"]
        if len(items) >= body["total"]:
            return items
        page += 1


subprocess.run([BIN, "seed-bench", "--companies", "40", "--applications", "800", "--payments", "400"], env=ENV, check=True,
               stdout=subprocess.DEVNULL)
subprocess.run([BIN, "create-admin", "--email", "admin@kill9.example"], env=ENV, input=b"a long admin passphrase\n",
               check=True, stdout=subprocess.DEVNULL)
server = start()
finance = login("finance@bench.example")
approved = [a["id"] for a in pages("/api/v1/applications?status=approved", finance)]
drafts = [(n, a) for n in range(40) for a in pages("/api/v1/applications?status=draft", login("company%d@bench.example" % n))]
requests = []  # every payment ever sent: (key, application, body)
outcomes = {}  # each key's answer when replayed after the restart: (status, problem code)
for iteration in range(ITERATIONS):
    batch = []
    for n in range(40):
        key = "kill9-%d-%d" % (iteration, n)
        body = {"amount_fen": 100000, "paid_on": "2026-01-05", "voucher_no": "K9-%d-%d" % (iteration, n)}
        batch.append((key, random.choice(approved), body))
    requests += batch
    submissions = [d for d in drafts if d[1]["status"] == "draft"][:5]
    threads = [threading.Thread(target=call, args=("POST", "/api/v1/applications/%d/disbursements" % a, b, finance, k))
               for k, a, b in batch]
    for n, draft in submissions:
        token = login("company%d@bench.example" % n)
        threads.append(threading.Thread(target=call, args=("POST", "/api/v1/applications/%d/actions" % draft["id"],
                                                            {"action": "submit", "version": draft["version"]}, token)))
    for thread in threads:
        thread.start()
    time.sleep(random.uniform(0.05, 0.6))
    server.send_signal(signal.SIGKILL)
    server.wait()
    for thread in threads:
        thread.join()
    server = start()
    finance = login("finance@bench.example")
    for key, application, body in batch:
        status, answer = call("POST", "/api/v1/applications/%d/disbursements" % application, body, finance, key)
        outcomes[key] = (status, answer.get("code") if isinstance(answer, dict) else None)
    for n, draft in submissions:
        status, fresh = call("GET", "/api/v1/applications/%d" % draft["id"], token=login("company%d@bench.example" % n))
        draft.update(fresh)

admin = login("admin@kill9.example", "a long admin passphrase")
events = pages("/api/v1/audit-events?action=disbursement.payment", admin)
entries = [e for e in pages("/api/v1/disbursements", finance) if e["kind"] == "payment" and e["voucher_no"].startswith("K9-")]
by_key = {}
for event in events:
    by_key.setdefault(event["summary"]["idempotency_key"], []).append(event["summary"]["disbursement_id"])
failures = []
if any(len(ids) > 1 for ids in by_key.values()):
    failures.append("an Idempotency-Key produced more than one payment")
# Every key ends paid exactly once (201) or definitively refused (no payment), never "still in progress".
for key, (status, code) in sorted(outcomes.items()):
    payments = len(by_key.get(key, []))
    if status == 201 and payments != 1:
        failures.append("%s answered 201 after the restart but made %d payments" % (key, payments))
    elif status != 201 and not (status == 409 and code == "over_disbursement" or status == 422):
        failures.append("%s answered %s %s after the restart" % (key, status, code))
    elif status != 201 and payments != 0:
        failures.append("%s was refused after the restart but made %d payments" % (key, payments))
paid_ids = sorted(e["id"] for e in entries)
audited = sorted(i for key, ids in by_key.items() if key.startswith("kill9-") for i in ids)
if paid_ids != audited:
    failures.append("payments and their audit events differ: %d payments, %d events" % (len(paid_ids), len(audited)))
for application in approved + [a["id"] for a in pages("/api/v1/applications?status=disbursed", finance)]:
    status, view = call("GET", "/api/v1/applications/%d" % application, token=finance)
    if view["disbursed_fen"] > (view["approved_amount_fen"] or 0):
        failures.append("application %d is over-paid" % application)
status, chain = call("GET", "/api/v1/audit-events/verify", token=admin)
if not chain["valid"]:
    failures.append("the audit chain breaks at %s" % chain["first_invalid_seq"])
server.send_signal(signal.SIGTERM)
server.wait()
print(json.dumps({"iterations": ITERATIONS, "payments_sent": len(requests), "payments_made": len(paid_ids),
                  "audit_events_checked": chain["checked"], "failures": failures}))
sys.exit(1 if failures else 0)
