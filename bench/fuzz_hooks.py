"""Schemathesis hooks for bench/fuzz.py: sign in as the role under test, and send seeded ids often enough that
the fuzzer reaches real applications, programmes, companies and users, not only 404s.

The fuzzer's own requests come from 127.0.0.1; sign-ins here name another client address (the service trusts
127.0.0.1 as a proxy during the run), so that the fuzzer's failed logins cannot lock the harness out.
"""
import json
import os

import requests
import schemathesis

BASE = os.environ["FUZZ_BASE"]
EMAIL = os.environ.get("FUZZ_EMAIL")
PASSWORD = os.environ.get("FUZZ_PASSWORD")
IDS = json.loads(os.environ["FUZZ_IDS"])  # {"/api/v1/applications/": [ids...], ...}
HARNESS_ADDRESS = "192.0.2.10"

if EMAIL:

    @schemathesis.auth()  # a 401 (the fuzzer logged itself out) fetches a fresh token
    class SignIn:
        def get(self, case, context):
            response = requests.post(
                BASE + "/api/v1/auth/login",
                json={"email": EMAIL, "password": PASSWORD},
                headers={"X-Forwarded-For": HARNESS_ADDRESS},
                timeout=30,
            )
            response.raise_for_status()
            return response.json()["access_token"]

        def set(self, case, data, context):
            case.headers = case.headers or {}
            case.headers["Authorization"] = "Bearer " + data


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    """Every even generated id becomes a seeded one of the kind the path names; odd ones stay as drawn."""
    if not path_parameters or context.operation is None:
        return path_parameters
    path = context.operation.path
    for prefix, ids in IDS.items():
        value = path_parameters.get("id")
        if path.startswith(prefix) and ids and isinstance(value, int) and value % 2 == 0:
            path_parameters["id"] = ids[(value // 2) % len(ids)]
    return path_parameters
