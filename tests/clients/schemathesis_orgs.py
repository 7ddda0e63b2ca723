"""Schemathesis (`--mode positive`) over the OpenAPI description tsunagu serves
for its own client-API extensions (GET /api/tsunagu/openapi.json).

Usage: schemathesis_orgs.py BASE_URL TOKEN OUT_DIR

Fails on any server error or any response the served description does not
allow, so the description cannot drift from the code.
"""

import json
import os
import re
import subprocess
import sys
import urllib.request

BASE, TOKEN, OUT = sys.argv[1:4]


def main():
    with urllib.request.urlopen(f"{BASE}/api/tsunagu/openapi.json") as r:
        assert r.headers["Content-Type"].startswith("application/json"), r.headers
        schema = json.load(r)
    assert schema["openapi"].startswith("3.1"), schema["openapi"]
    for path in [
        "/api/v1/orgs",
        "/api/v1/orgs/{id}",
        "/api/v1/orgs/{id}/members",
        "/api/v1/orgs/{id}/invites",
        "/api/v1/orgs/{id}/membership_requests",
        "/api/v1/orgs/{id}/membership_requests/{request_id}/approve",
        "/api/v1/orgs/{id}/membership_requests/{request_id}/reject",
        "/api/v1/orgs/{id}/members/{account_id}/role",
        "/api/v1/orgs/{id}/members/{account_id}/graduate",
        "/api/v1/orgs/{id}/membership",
        "/api/v1/orgs/{id}/timeline",
        "/api/v1/orgs/{id}/directory",
        "/api/v1/orgs/{id}/tenures/{tenure_id}/verify",
        "/api/v1/alumni/profile",
        "/api/v1/alumni/profile/{id}",
        "/api/v1/alumni/now",
    ]:
        assert path in schema["paths"], f"{path} is not described"
    schema["servers"] = [{"url": BASE}]
    os.makedirs(OUT, exist_ok=True)
    served = os.path.join(OUT, "tsunagu.json")
    with open(served, "w") as f:
        json.dump(schema, f)
    exe = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    cmd = [
        exe,
        "--no-color",
        "run",
        served,
        "--url",
        BASE,
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--mode",
        "positive",
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance",
        "--max-examples",
        os.environ.get("TSUNAGU_SCHEMATHESIS_EXAMPLES", "8"),
        "--seed",
        "1",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True)
    print(run.stdout[-20000:])
    print(run.stderr[-5000:], file=sys.stderr)
    if run.returncode != 0:
        sys.exit(f"schemathesis failed with exit code {run.returncode}")
    if not re.search(r"\b\d+ passed\b|\bpassed\b", run.stdout):
        sys.exit("schemathesis reported nothing passed")
    print("acceptance: OK")


main()
