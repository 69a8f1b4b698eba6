"""Uploads onto a full disk: the upload folder is a 1 MiB tmpfs; a company uploads 300 KiB files until the disk
is full. The refused upload must get a clean 503, leave no partial file and no row without its file; every
accepted file must come back whole; and once a file is deleted, uploads succeed again.

Usage (as root, for the mount): bench/full_disk.py PORTAL_BINARY, built with `--features bench` (the data is
seeded with `portal seed-bench`). Exits non-zero naming what broke.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

BIN = sys.argv[1]
PORT = 18484
BASE = "http://127.0.0.1:%d" % PORT
WORK = tempfile.mkdtemp()
UPLOADS = os.path.join(WORK, "uploads")
ENV = dict(os.environ, APP_SERVER__PORT=str(PORT), APP_LOG__FILTER="error", APP_MAIL__TRANSPORT="memory",
           APP_STORAGE__UPLOAD_DIR=UPLOADS, APP_AUTH__ARGON2_MEMORY_KIB="64", APP_AUTH__ARGON2_ITERATIONS="1",
           APP_DATABASE__URL="sqlite://" + os.path.join(WORK, "portal.db"))
FILE_SIZE = 300 * 1024


def call(method, path, token=None, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if content_type == "application/json" and body is not None else body
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def upload(token, application, number):
    content = b"%PDF-1.7\n" + os.urandom(FILE_SIZE)
    boundary = uuid.uuid4().hex
    body = (("--%s\r\nContent-Disposition: form-data; name=\"material_key\"\r\n\r\nbusiness_license\r\n"
             "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"licence-%d.pdf\"\r\n"
             "Content-Type: application/pdf\r\n\r\n") % (boundary, boundary, number)).encode()
    body += content + ("\r\n--%s--\r\n" % boundary).encode()
    status, answer = call("POST", "/api/v1/applications/%d/attachments" % application, token, body,
                          "multipart/form-data; boundary=" + boundary)
    return status, json.loads(answer), content


def stored_files():
    return sorted(name for name in os.listdir(UPLOADS) if name != ".staging")


def check(condition, message):
    if not condition:
        raise SystemExit("full disk: " + message)


os.makedirs(UPLOADS)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", UPLOADS], check=True)
server = None
try:
    quiet = {"env": ENV, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([BIN, "seed-demo"], **quiet)
    subprocess.run([BIN, "seed-bench", "--companies", "1", "--programs", "1", "--applications", "1", "--payments", "0"],
                   **quiet)
    server = subprocess.Popen([BIN, "serve"], env=ENV, stdout=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if urllib.request.urlopen(BASE + "/health/ready", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.1)
    status, body = call("POST", "/api/v1/auth/login", body={"email": "company0@bench.example",
                                                            "password": "bench-password-violet-42"})
    token = json.loads(body)["access_token"]
    programs = json.loads(call("GET", "/api/v1/programs", token)[1])["items"]
    program = next(p["id"] for p in programs if p["code"] == "IC-2026")
    status, body = call("POST", "/api/v1/applications", token,
                        {"program_id": program, "requested_amount_fen": 100_000_000, "form_data": {}})
    check(status == 201, "the draft was refused: %s %s" % (status, body))
    application = json.loads(body)["id"]

    accepted = {}
    for number in range(10):
        status, answer, content = upload(token, application, number)
        if status != 201:
            break
        accepted[answer["id"]] = content
    else:
        raise SystemExit("full disk: ten 300 KiB files fitted on a 1 MiB disk")
    check(status == 503 and answer.get("code") == "unavailable",
          "the upload onto a full disk got %s %s, not 503 unavailable" % (status, answer))
    check(len(accepted) >= 1, "not even the first file fitted")

    listed = json.loads(call("GET", "/api/v1/applications/%d/attachments" % application, token)[1])
    check(sorted(a["id"] for a in listed) == sorted(accepted), "rows %s, accepted %s" % (listed, list(accepted)))
    for attachment in listed:
        status, content = call("GET", "/api/v1/applications/%d/attachments/%d" % (application, attachment["id"]), token)
        check(status == 200 and content == accepted[attachment["id"]], "attachment %d did not come back whole"
              % attachment["id"])
        check(attachment["sha256"] == hashlib.sha256(content).hexdigest(), "a recorded checksum is wrong")
    check(len(stored_files()) == len(accepted), "files on disk %s for %d rows" % (stored_files(), len(accepted)))
    check(os.listdir(os.path.join(UPLOADS, ".staging")) == [], "a partial file was left in the staging folder")

    status, _ = call("DELETE", "/api/v1/applications/%d/attachments/%d" % (application, listed[0]["id"]), token)
    check(status == 204, "deleting an attachment got %s" % status)
    status, answer, _ = upload(token, application, 99)
    check(status == 201, "with room again, the upload got %s %s" % (status, answer))
    print("full disk: %d files fitted, the next got 503 unavailable, nothing partial or orphaned, and uploads "
          "resumed once a file was deleted" % len(accepted))
finally:
    if server:
        server.terminate()
        server.wait()
    subprocess.run(["umount", UPLOADS])
