"""Schema-driven fuzzing: schemathesis against the running service's own OpenAPI document, once without a
token and once signed in as each role, on seeded data, with a fixed seed.

Usage: bench/fuzz.py PORTAL_BINARY [EXAMPLES_PER_OPERATION (10)] [SEED (20261126)]
PORTAL_BINARY must be built with `--features bench`: the data is seeded with `portal seed-bench`.
APP_DATABASE__URL picks the database; by default a temporary SQLite file. Installs schemathesis if missing.
Exits non-zero when a check fails, the service dies, or the audit trail no longer verifies.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

SCHEMATHESIS = "schemathesis==4.32.0"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
])
BIN = sys.argv[1]
EXAMPLES = sys.argv[2] if len(sys.argv) > 2 else "10"
SEED = sys.argv[3] if len(sys.argv) > 3 else "20261126"
CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")
PORT = 18383
BASE = "http://127.0.0.1:%d" % PORT
WORK = tempfile.mkdtemp()
PASSWORD = "bench-password-violet-42"
ADMIN_PASSWORD = "a long admin passphrase"
ENV = dict(os.environ, APP_SERVER__PORT=str(PORT), APP_LOG__FILTER="warn", APP_MAIL__TRANSPORT="memory",
           APP_STORAGE__UPLOAD_DIR=os.path.join(WORK, "uploads"), APP_AUTH__ARGON2_MEMORY_KIB="64",
           APP_AUTH__ARGON2_ITERATIONS="1", APP_SERVER__TRUSTED_PROXIES="127.0.0.1")
ENV.setdefault("APP_DATABASE__URL", "sqlite://" + os.path.join(WORK, "portal.db"))
ROLES = [
    ("anonymous", None, None),
    ("applicant", "company0@bench.example", PASSWORD),
    ("reviewer", "reviewer@bench.example", PASSWORD),
    ("expert", "expert@bench.example", PASSWORD),
    ("finance", "finance@bench.example", PASSWORD),
    ("admin", "admin@fuzz.example", ADMIN_PASSWORD),
]


def call(method, path, body=None, token=None):
    request = urllib.request.Request(BASE + path, data=None if body is None else json.dumps(body).encode(), method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Forwarded-For", "192.0.2.10")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def ids(path, token):
    return [item["id"] for item in call("GET", path + "?per_page=100", token=token)["items"]]


def ready():
    try:
        return urllib.request.urlopen(BASE + "/health/ready", timeout=2).status == 200
    except OSError:
        return False


if subprocess.run([sys.executable, "-m", "schemathesis.cli", "--version"], capture_output=True).returncode != 0:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--root-user-action=ignore", SCHEMATHESIS], check=True)
quiet = {"env": ENV, "check": True, "stdout": subprocess.DEVNULL}
subprocess.run([BIN, "seed-demo"], **quiet)
subprocess.run([BIN, "seed-bench", "--companies", "5", "--programs", "4", "--applications", "80", "--payments", "40"],
               **quiet)
subprocess.run([BIN, "create-admin", "--email", "admin@fuzz.example"], input=ADMIN_PASSWORD.encode() + b"\n", **quiet)
server = subprocess.Popen([BIN, "serve"], env=ENV, stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, "log"), "w"))
for _ in range(300):
    if ready():
        break
    time.sleep(0.1)
else:
    raise SystemExit("the service did not start")

admin = call("POST", "/api/v1/auth/login", {"email": "admin@fuzz.example", "password": ADMIN_PASSWORD})["access_token"]
seeded = {prefix: ids(prefix.rstrip("/"), admin) for prefix in
          ["/api/v1/applications/", "/api/v1/programs/", "/api/v1/companies/", "/api/v1/users/"]}

failed = []
for role, email, password in ROLES:
    env = dict(os.environ, FUZZ_BASE=BASE, FUZZ_IDS=json.dumps(seeded), SCHEMATHESIS_HOOKS="fuzz_hooks",
               PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    if email:
        env.update(FUZZ_EMAIL=email, FUZZ_PASSWORD=password)
    print("== schemathesis as %s: %s examples per operation, seed %s" % (role, EXAMPLES, SEED), flush=True)
    result = subprocess.run([sys.executable, "-m", "schemathesis.cli", "--config-file", CONFIG, "run",
                             BASE + "/api/openapi.json",
                             "--checks", CHECKS, "--max-examples", EXAMPLES, "--seed", SEED, "--workers", "2",
                             "--no-color", "--request-timeout", "30"], env=env, cwd=WORK)
    if result.returncode != 0:
        failed.append(role)
    if server.poll() is not None or not ready():
        raise SystemExit("the service died or stopped answering while fuzzed as %s; log in %s" % (role, WORK))

server.terminate()
server.wait()
audit = subprocess.run([BIN, "audit", "verify"], env=ENV, capture_output=True, text=True)
if audit.returncode != 0:
    raise SystemExit("the audit trail no longer verifies: " + audit.stdout + audit.stderr)
if failed:
    raise SystemExit("schemathesis found failures as: " + ", ".join(failed))
print("fuzzing: no failures for any role; the audit trail verifies")
