"""RFC 9421 HTTP Message Signatures made by an independent implementation
(http-message-signatures from PyPI), as Mastodon 4.5 and Fedify send them:
a delivery and a signed GET are accepted when valid and refused when altered.

Usage: rfc9421_signatures.py BASE TOKEN
  BASE: the tsunagu under test (development mode, loopback).
  TOKEN: an access token of the local person `alice` (unlocked).

The remote actor lives in this script: a small HTTP server on loopback
serves its document and takes its inbox's deliveries.
"""
import base64
import datetime
import hashlib
import http.server
import json
import sys
import threading
import time

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

base, token = sys.argv[1], sys.argv[2]
AP = "application/activity+json"

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
private_pem = key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
public_pem = key.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
).decode()


class Remote(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/users/py":
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(actor_doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", AP)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Remote)
threading.Thread(target=server.serve_forever, daemon=True).start()
actor = f"http://127.0.0.1:{server.server_port}/users/py"
key_id = f"{actor}#main-key"
actor_doc = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    "id": actor,
    "type": "Person",
    "preferredUsername": "py",
    "inbox": f"{actor}/inbox",
    "publicKey": {"id": key_id, "owner": actor, "publicKeyPem": public_pem},
}


class Keys(HTTPSignatureKeyResolver):
    def resolve_private_key(self, key_id):
        return private_pem

    def resolve_public_key(self, key_id):
        return public_pem.encode()


signer = HTTPMessageSigner(signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=Keys())
session = requests.Session()


def signed(method, url, body=None):
    headers = {"Accept": AP}
    components = ["@method", "@target-uri", "@authority"]
    if body is not None:
        headers["Content-Type"] = AP
    request = requests.Request(method, url, data=body, headers=headers).prepare()
    if body is not None:
        digest = base64.b64encode(hashlib.sha256(request.body).digest()).decode()
        request.headers["Content-Digest"] = f"sha-256=:{digest}:"
        components.append("content-digest")
    signer.sign(
        request,
        key_id=key_id,
        created=datetime.datetime.now(datetime.timezone.utc),
        label="sig1",
        covered_component_ids=components,
    )
    return request


def status_of(request):
    return session.send(request, timeout=20).status_code


# alice posts followers-only: only a signed fetch by a follower sees it.
r = session.post(
    f"{base}/api/v1/statuses",
    headers={"Authorization": f"Bearer {token}"},
    json={"status": "Followers only: the alumni dinner moved to Shinjuku", "visibility": "private"},
    timeout=20,
)
assert r.status_code == 200, r.text
status_uri = r.json()["uri"]

follow = json.dumps({
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": f"{actor}#follows/1",
    "type": "Follow",
    "actor": actor,
    "object": f"{base}/users/alice",
}).encode()
inbox = f"{base}/inbox"

# Altered after signing: the body, then the signature itself.
tampered = signed("POST", inbox, follow)
tampered.body = follow.replace(b"follows/1", b"follows/2")
assert status_of(tampered) == 401, "an altered body was accepted"
forged = signed("POST", inbox, follow)
sig = forged.headers["Signature"]
forged.headers["Signature"] = sig[:12] + ("A" if sig[12] != "A" else "B") + sig[13:]
assert status_of(forged) == 401, "an altered signature was accepted"
# A signature for another server's inbox (its @authority and @target-uri).
elsewhere = signed("POST", "http://elsewhere.example/inbox", follow)
elsewhere.url = inbox
elsewhere.headers.pop("Host", None)
assert status_of(elsewhere) == 401, "a signature made for another server was accepted"
# An algorithm we do not take is refused with a reason, not read as unsigned.
hmac_signed = signed("POST", inbox, follow)
hmac_signed.headers["Signature-Input"] = hmac_signed.headers["Signature-Input"].replace(
    'alg="rsa-v1_5-sha256"', 'alg="hmac-sha256"'
)
r = session.send(hmac_signed, timeout=20)
assert r.status_code == 401 and "hmac-sha256" in r.text, (r.status_code, r.text)

# The real delivery is accepted, and alice (unlocked) accepts the follow.
assert status_of(signed("POST", inbox, follow)) == 202

# A signed GET by the follower sees the post; unsigned and altered ones do not.
deadline = time.time() + 30
while status_of(signed("GET", status_uri)) != 200:
    assert time.time() < deadline, "the follower's signed GET never saw the post"
    time.sleep(0.2)
assert session.get(status_uri, headers={"Accept": AP}, timeout=20).status_code == 404
altered = signed("GET", status_uri)
altered.headers["Signature"] = forged.headers["Signature"]
assert status_of(altered) == 404, "a GET with an altered signature saw the post"
# A signature that cannot be parsed is refused with its reason, not read as unsigned.
broken = signed("GET", status_uri)
broken.headers["Signature-Input"] = 'sig1=("@method" "@target-uri"'
r = session.send(broken, timeout=20)
assert r.status_code == 401 and "signature" in r.text, (r.status_code, r.text)

print("acceptance: OK")
