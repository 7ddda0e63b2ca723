"""Acceptance: single sign-on through a real OpenID provider, in Chromium, in Japanese and in English.

The provider is the certified `oidc-provider` package from npm
(tests/clients/oidc_provider.mjs) with its development sign-in pages: any
login name is a person of the company, `<login>@example.com`, verified.
For each language: a new employee signs in with the company account and
lands on their home page with a new account that is a verified employee of
ACME Alumni (`oidc.org`); signing in again finds the same account; a
person whose account here has the same confirmed address is linked to it;
an account whose address is not confirmed is not taken over; cancelling at
the provider says so. Every page of ours is checked with axe-core and for
requests leaving the instance (the provider's own pages are not ours).
Then, from outside with plain HTTP: the provider's answer is worthless to
another browser, to the same browser twice, and with another state.
Usage: python browser_oidc.py BASE_URL ADMIN_TOKEN SCREENSHOT_DIR AXE_JS
"""
import re
import sys
from urllib.parse import urljoin, urlparse

import requests
from selenium.webdriver.common.by import By

from browser_member_web import ADMIN, BASE, PASSWORD, Person, api

TEXT = {
    "ja": {
        "button": "ACME ID でサインイン", "cancelled": "サインインが取り消されました",
        "unconfirmed": "アドレスが確認されていません",
    },
    "en": {
        "button": "Sign in with ACME ID", "cancelled": "The sign-in was cancelled",
        "unconfirmed": "has not confirmed it",
    },
}


def to_provider(p):
    """From our sign-in page to the provider's."""
    html = p.open("/auth/sign_in")
    assert TEXT[p.lang]["button"] in html, html
    p.d.find_element(By.ID, "oidc").click()
    # To the provider, or straight back when it still knows the person.
    p.wait.until(lambda d: not d.current_url.startswith(BASE + "/auth/sign_in"))


def back_home(p):
    p.wait.until(lambda d: d.current_url.startswith(BASE))
    return p.page()


def sso(p, login):
    """Signs in at the provider (its sign-in and consent pages when it asks)."""
    to_provider(p)
    p.wait.until(lambda d: d.find_elements(By.NAME, "login") or d.current_url.startswith(BASE))
    if not p.d.current_url.startswith(BASE):
        p.d.find_element(By.NAME, "login").send_keys(login)
        p.d.find_element(By.NAME, "password").send_keys("whatever the company uses")
        p.d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        p.wait.until(lambda d: d.current_url.startswith(BASE) or "Continue" in d.page_source)
        if not p.d.current_url.startswith(BASE):
            p.d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    return back_home(p)


def member(org_id, username):
    members = api("GET", f"/api/v1/orgs/{org_id}/members", ADMIN)
    return next((m for m in members if m["account"]["username"] == username), None)


def run(lang, org_id):
    t = TEXT[lang]
    sato, taro, jun = f"sato_{lang}", f"taro_{lang}", f"jun_{lang}"
    p = Person(lang, sato)
    try:
        p.open("/auth/sign_in")
        p.shot("sign-in-sso")
        # A new employee: a new account, a verified employee of the org.
        html = sso(p, sato)
        assert p.d.current_url.endswith("/home"), p.d.current_url
        assert f'title="@{sato}"' in html and f"{sato} (ACME)" in html, html
        p.shot("home-sso")
        m = member(org_id, sato)
        assert m and m["role"] == "employee" and m["state"] == "verified", m
        # Again, after signing out: the same account (the provider remembers the person).
        p.sign_out()
        html = sso(p, sato)
        assert p.d.current_url.endswith("/home") and f'title="@{sato}"' in html, html
        assert requests.get(f"{BASE}/api/v1/accounts/lookup?acct={sato}1", timeout=30).status_code == 404
    finally:
        p.quit()

    # An account here with the same confirmed address is linked, not duplicated.
    q = Person(lang, taro)
    try:
        html = sso(q, taro)
        assert q.d.current_url.endswith("/home") and f'title="@{taro}"' in html, html
        m = member(org_id, taro)
        assert m and m["role"] == "employee", m
    finally:
        q.quit()

    # An account whose address nobody proved is not handed to the provider's person.
    app = api("POST", "/api/v1/apps", data={"client_name": "sso", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})
    app_token = api("POST", "/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": "write"})["access_token"]
    api("POST", "/api/v1/accounts", app_token, data={"username": jun, "email": f"{jun}@example.com", "password": PASSWORD, "agreement": "true", "locale": lang})
    r = Person(lang, jun)
    try:
        html = sso(r, jun)
        assert "/auth/oidc/callback" in r.d.current_url, r.d.current_url
        assert t["unconfirmed"] in html, html
        r.shot("sso-unconfirmed")
        assert not r.d.find_elements(By.CSS_SELECTOR, "form[action='/auth/sign_out']")
    finally:
        r.quit()

    # Cancelling at the provider comes back with words, not an error page.
    c = Person(lang, "cancel")
    try:
        to_provider(c)
        c.wait.until(lambda d: d.find_elements(By.LINK_TEXT, "[ Cancel ]"))
        c.d.find_element(By.LINK_TEXT, "[ Cancel ]").click()
        html = back_home(c)
        assert t["cancelled"] in html, html
        assert not c.d.find_elements(By.CSS_SELECTOR, "form[action='/auth/sign_out']")
    finally:
        c.quit()


def csrf(html):
    return re.search(r'name="authenticity_token" value="([^"]+)"', html).group(1)


def to_callback(login):
    """The whole flow over plain HTTP up to the provider's redirect back to
    us: the browser's session and the callback URL, not yet followed."""
    s = requests.Session()
    token = csrf(s.get(BASE + "/auth/sign_in", timeout=30).text)
    r = s.post(BASE + "/auth/oidc", data={"authenticity_token": token, "next": "/local"}, allow_redirects=False, timeout=30)
    assert r.status_code == 303, (r.status_code, r.text)
    url, data = r.headers["location"], None
    for _ in range(20):
        r = s.post(url, data=data, allow_redirects=False, timeout=30) if data is not None else s.get(url, allow_redirects=False, timeout=30)
        if r.status_code in (302, 303):
            url, data = urljoin(url, r.headers["location"]), None
            if url.startswith(BASE):
                return s, url
            continue
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        action = re.search(r'<form[^>]*action="([^"]+)"', r.text).group(1)
        data = {"prompt": "login", "login": login, "password": "x"} if 'name="login"' in r.text else {"prompt": "consent"}
        url = urljoin(url, action.replace("&amp;", "&"))
    raise AssertionError("the provider never sent the browser back")


def refused(login, status):
    s, callback = to_callback(login)
    r = s.get(callback, allow_redirects=False, timeout=30)
    assert r.status_code == status, (login, r.status_code, r.text[:300])
    assert "tsunagu_session=" not in r.headers.get("set-cookie", ""), login


def hostile():
    # No verified address, an address outside oidc.email_domains, an
    # administrator's address, an address now given to someone else: no one
    # is signed in or linked.
    refused("nomail_x", 403)
    refused("eve=eve@elsewhere.test", 403)
    refused("boss=office@example.com", 409)
    refused("newhire=taro_ja@example.com", 409)
    # The answer taken to another browser (no cookie) signs no one in.
    s, callback = to_callback("mallory_target")
    cookie = s.cookies.get("tsunagu_oidc")
    assert cookie, s.cookies
    r = requests.get(callback, allow_redirects=False, timeout=30)
    assert r.status_code == 400 and "start again" in r.text, (r.status_code, r.text[:300])
    assert "tsunagu_session=" not in r.headers.get("set-cookie", "")
    # The right browser signs in, and goes where it asked to.
    r = s.get(callback, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["location"] == "/local", (r.status_code, r.headers, r.text[:300])
    assert "tsunagu_session=" in r.headers.get("set-cookie", "")
    # The same answer again, even with the old cookie, is spent.
    r = requests.get(callback, cookies={"tsunagu_oidc": cookie}, allow_redirects=False, timeout=30)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    # Another state (a forged or swapped answer) fails, and spends the sign-in.
    s, callback = to_callback("mallory_target")
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    assert forged != callback
    r = s.get(forged, allow_redirects=False, timeout=30)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    r = s.get(callback, allow_redirects=False, timeout=30)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    # An answer claiming another issuer (RFC 9207 mix-up) fails.
    s, callback = to_callback("mallory_target")
    mixed = re.sub(r"iss=[^&]+", "iss=https%3A%2F%2Fevil.example", callback)
    assert mixed != callback and urlparse(mixed).query
    r = s.get(mixed, allow_redirects=False, timeout=30)
    assert r.status_code == 502, (r.status_code, r.text[:300])


def main():
    org = api("POST", "/api/v1/orgs", ADMIN, json={"username": "acme", "display_name": "ACME Alumni", "note": "The alumni network of ACME Corporation."})
    for lang in ["ja", "en"]:
        run(lang, org["id"])
    hostile()
    print("browser oidc acceptance: OK")


if __name__ == "__main__":
    main()
