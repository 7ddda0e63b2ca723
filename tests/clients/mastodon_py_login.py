"""Acceptance: the real Mastodon.py client against a running tsunagu.

register an app, register an account, authorize through the HTML form with
the out-of-band code, verify and update credentials, read the version.
Usage: python mastodon_py_login.py BASE_URL
"""
import re
import sys
from html.parser import HTMLParser

import requests
from mastodon import Mastodon

BASE = sys.argv[1]
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow"]
PASSWORD = "correct horse battery staple"


class FormParser(HTMLParser):
    """Collects the inputs of the sign-in form as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.fields = {}
        self.action = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def main():
    client_id, client_secret = Mastodon.create_app(
        "tsunagu acceptance", scopes=SCOPES, redirect_uris=OOB, api_base_url=BASE
    )

    # Registration through the API (registrations.mode = "open" for this test).
    signup = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=BASE)
    signup.create_account("hanako", PASSWORD, "hanako@example.com", agreement=True, locale="ja", scopes=SCOPES)
    assert signup.account_verify_credentials()["username"] == "hanako"

    # Sign in through the HTML form with the out-of-band redirect.
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=BASE)
    # allow_http: the test server listens on plain http on loopback.
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    browser = requests.Session()
    page = browser.get(url, headers={"Accept-Language": "ja"})
    assert page.status_code == 200, page.text
    assert "ログイン" in page.text, "Japanese consent page"
    form = FormParser()
    form.feed(page.text)
    assert "username" in form.fields and "password" in form.fields, form.fields
    data = dict(form.fields)
    data.update(username="hanako", password=PASSWORD, decision="authorize")
    done = browser.post(BASE + form.action, data=data)
    assert done.status_code == 200, done.text
    code = re.search(r'id="authorization-code">\s*([^<\s]+)\s*<', done.text).group(1)
    api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)

    me = api.account_verify_credentials()
    assert me["username"] == "hanako" and me["acct"] == "hanako", me
    assert me["source"]["privacy"] == "public", me["source"]

    updated = api.account_update_credentials(
        display_name="山田 花子 (Hanako)",
        fields=[("Company", "ACME 2015-2022"), ("Now", "https://example.com/now")],
    )
    assert updated["display_name"] == "山田 花子 (Hanako)", updated
    assert [f["name"] for f in updated["fields"]] == ["Company", "Now"], updated["fields"]
    again = api.account_verify_credentials()
    assert again["source"]["fields"][1]["value"] == "https://example.com/now", again["source"]
    assert api.account(me["id"])["display_name"] == "山田 花子 (Hanako)"

    version = api.retrieve_mastodon_version()
    assert str(version).startswith("4.2.0"), version
    print("mastodon.py acceptance: OK")


if __name__ == "__main__":
    main()
