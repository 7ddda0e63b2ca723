"""Schemathesis (`--mode positive`) over every Mastodon operation tsunagu implements.

Usage: schemathesis_run.py BASE_URL TOKEN SCHEMA OUT_DIR

The OpenAPI schema comes from ../shared/mastodon-openapi. Before the run we
patch the places where the schema is wrong or where tsunagu deviates on
purpose; each patch names its reason and is listed in docs/api-compatibility.md.
Operations tsunagu does not implement (MISSING) are excluded; the run fails on
any server error or any response that breaks the (patched) schema.
"""

import json
import os
import re
import subprocess
import sys

BASE, TOKEN, SCHEMA, OUT = sys.argv[1:5]

# Operation groups tsunagu does not implement yet (docs/api-compatibility.md
# lists them as missing), plus the long-lived streams: an SSE response never
# ends, so schemathesis would only time out; masto.js covers them.
MISSING = [
    r"^/api/v1/accounts/\{account_id\}/(in_)?collections$",
    r"^/api/v1/collections",
    r"^/api/v1/accounts/\{id\}/(endorse|unendorse|endorsements|identity_proofs|note|pin|unpin)$",
    r"^/api/v1/accounts/familiar_followers$",
    r"^/api/v1/announcements/\{id\}/reactions/",
    r"^/api/v1/annual_reports",
    r"^/api/v1_alpha/",
    r"^/api/v1/domain_blocks$",
    r"^/api/v1/emails/confirmations$",
    r"^/api/v1/endorsements$",
    r"^/api/v1/filters/\{id\}$",
    r"^/api/v2/filters/(\{filter_id\}/)?statuses",
    r"^/api/v1/followed_tags$",
    r"^/api/v1/instance/(domain_blocks|extended_description|privacy_policy|terms_of_service|translation_languages)",
    r"^/api/v1/notifications/(requests|unread_count)",
    r"^/api/v2/notifications",
    r"^/api/oembed$",
    r"^/api/v1/profile",
    r"^/api/v1/push/",
    r"^/api/v1/scheduled_statuses",
    r"^/api/v1/statuses/\{id\}/(interaction_policy|mute|unmute|quotes|translate)",
    r"^/api/v1/suggestions",
    r"^/api/v2/suggestions",
    r"^/api/v1/tags/",
    r"^/api/v1/timelines/(direct|link)$",
    r"^/api/v1/streaming/(?!health$)",
    # The consent page is HTML for people; tests/clients/browser_pages.py drives it.
    r"^/oauth/authorize$",
]


def deviations(schema):
    """Patches for schema errors and deliberate deviations (docs/api-compatibility.md)."""
    paths = schema["paths"]
    comps = schema["components"]["schemas"]

    # Schema error: Mastodon returns an array of V1 filters; clients expect one.
    ok = paths["/api/v1/filters"]["get"]["responses"]["200"]["content"]["application/json"]
    ok["schema"] = {"type": "array", "items": ok["schema"]}

    # Before an admin sets instance.contact_email, the address is "" (as Mastodon
    # sends); we do not invent one. source_url is null until an operator sets it.
    def loosen(obj, prop, extra):
        node = obj["properties"][prop]
        obj["properties"][prop] = {"anyOf": [node, extra]}

    loosen(comps["V1Instance"], "email", {"const": ""})
    contact = comps["Instance"]["properties"]["contact"]
    loosen(contact, "email", {"const": ""})
    loosen(comps["Instance"], "source_url", {"type": "null"})
    return schema


def main():
    with open(SCHEMA) as f:
        schema = deviations(json.load(f))
    schema["servers"] = [{"url": BASE}]
    os.makedirs(OUT, exist_ok=True)
    patched = os.path.join(OUT, "schema.json")
    with open(patched, "w") as f:
        json.dump(schema, f)

    excluded = [p for p in schema["paths"] if any(re.search(m, p) for m in MISSING)]
    included = [p for p in schema["paths"] if p not in excluded]
    print(f"{len(included)} paths tested, {len(excluded)} excluded as missing")
    exe = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    cmd = [
        exe,
        "--no-color",
        "run",
        patched,
        "--url",
        BASE,
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--mode",
        "positive",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-examples",
        os.environ.get("TSUNAGU_SCHEMATHESIS_EXAMPLES", "8"),
        "--seed",
        "1",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
        "--exclude-path-regex",
        "|".join(f"({m})" for m in MISSING),
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
