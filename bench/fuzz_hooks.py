"""Schemathesis hooks for bench/fuzz.py: sign in as the role under test, send seeded ids often enough that
the fuzzer reaches real applications, programmes, companies and users, not only 404s, and give generated credit
codes their check character (the one rule of a field the document's pattern cannot say).

The fuzzer's own requests come from 127.0.0.1; sign-ins here name another client address (the service trusts
127.0.0.1 as a proxy during the run), so that the fuzzer's failed logins cannot lock the harness out.
"""
import json
import os

import requests
import schemathesis
from hypothesis.internal import lambda_sources

BASE = os.environ["FUZZ_BASE"]
EMAIL = os.environ.get("FUZZ_EMAIL")
PASSWORD = os.environ.get("FUZZ_PASSWORD")
IDS = json.loads(os.environ["FUZZ_IDS"])  # {"/api/v1/applications/": [ids...], ...}
HARNESS_ADDRESS = "192.0.2.10"

# Hypothesis parses source code only to describe a lambda in its messages. CPython 3.11's parser sometimes
# fails on the large module it reads ("AST constructor recursion depth mismatch", a SystemError), which
# schemathesis reports as an error of the operation under test; a description is not worth failing a run.
_describe_lambda = lambda_sources._lambda_description


def _describe_lambda_or_not(f, *args, **kwargs):
    try:
        return _describe_lambda(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _describe_lambda_or_not

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


CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def with_check_character(code):
    """The code with its 18th character computed from the first 17 (GB 32100-2015), when it has 18 of the
    alphabet's characters; otherwise unchanged."""
    core = code.strip().upper()
    if len(core) != 18 or any(c not in CREDIT_CODE_ALPHABET for c in core):
        return code
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(core, CREDIT_CODE_WEIGHTS))
    return core[:17] + CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def fill_check_characters(value):
    if isinstance(value, dict):
        return {key: with_check_character(item) if key == "credit_code" and isinstance(item, str)
                else fill_check_characters(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_check_characters(item) for item in value]
    return value


@schemathesis.hook
def map_body(context, body):
    return fill_check_characters(body)
