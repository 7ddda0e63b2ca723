"""Acceptance: the member web in a real headless Chromium, in Japanese and in English.

For each language a person signs up from an org's invitation link into a
membership, turns on two-factor sign-in and signs in again with a one-time
code, posts a members-only post (a second member sees it, a follower who is
not a member does not) and a public post into the org, which the org's page
then shows in full under "shared by"; the thread, org timeline, search,
request, status, sign-up, password and error pages are visited too. Every
page visited is checked with axe-core (from npm): no serious or critical
violation; and no request leaves the instance. Screenshots at phone and desktop widths go to SCREENSHOT_DIR.
Usage: python browser_member_web.py BASE_URL ADMIN_TOKEN SCREENSHOT_DIR AXE_JS
"""
import os
import sys
import time

import pyotp
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, ADMIN, SHOTS, AXE_JS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
PASSWORD = "a browser-typed password"
AXE = open(AXE_JS, encoding="utf-8").read()
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}

TEXT = {
    "ja": {
        "join": "ACME Alumni に参加", "joined": "メンバー申請を送りました", "two_factor": "確認コードを入力",
        "members_only": "メンバーのみ · ACME Alumni", "shared": "ACME Alumni がシェア", "posted": "投稿しました",
        "codes": "リカバリーコード", "followed": "フォローを更新しました", "left": "残り {} 文字",
    },
    "en": {
        "join": "Join ACME Alumni", "joined": "Your membership request was sent", "two_factor": "Enter your sign-in code",
        "members_only": "Members only · ACME Alumni", "shared": "Shared by ACME Alumni", "posted": "Your post is published",
        "codes": "Your recovery codes", "followed": "your follows are updated", "left": "{} characters left",
    },
}


def api(method, path, token=None, **kw):
    headers = {"Authorization": "Bearer " + token} if token else {}
    r = requests.request(method, BASE + path, headers=headers, timeout=30, **kw)
    assert r.status_code < 300, (method, path, r.status_code, r.text)
    return r.json()


def browser(lang):
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--lang=" + lang, "--window-size=1280,900", "--hide-scrollbars",
        # Only this machine answers: a page that reached elsewhere fails fast and visibly.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ]:
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=opts, service=service)


def stale(element):
    """Whether the page an element belonged to is gone. While Chromium swaps
    documents the driver may answer with an inspector error instead of a
    stale-element one (selenium's staleness_of lets that through)."""
    try:
        element.is_enabled()
        return False
    except Exception:
        return True


class Person:
    """One browser in one language, checking every page it sees."""

    def __init__(self, lang, name):
        self.lang, self.name = lang, name
        self.d = browser(lang)
        self.wait = WebDriverWait(self.d, 20)
        self.checked = set()

    def quit(self):
        self.d.quit()

    def open(self, path):
        self.d.get(BASE + path)
        return self.page()

    def page(self):
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        self.check()
        return self.d.page_source

    def check(self):
        """axe-core at both widths, and nothing loaded from elsewhere."""
        path = self.d.current_url.split("?")[0]
        shown = self.d.execute_script("return document.documentElement.lang")
        assert shown == self.lang, (path, shown, self.lang, self.d.page_source[:500])
        outside = self.d.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".concat([...document.images].map(i => i.currentSrc || i.src))"
            ".filter(u => u && !u.startsWith(location.origin + '/') && !u.startsWith('data:'))")
        assert outside == [], (path, outside)
        if path in self.checked:
            return
        self.checked.add(path)
        for width in WIDTHS.values():
            self.d.set_window_size(*width)
            self.d.execute_script(AXE)
            violations = self.d.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {resultTypes: ['violations']})"
                ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
                ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));")
            bad = [v for v in violations if v["impact"] in ("serious", "critical")]
            assert not bad, (self.lang, path, width, bad)
        self.d.set_window_size(*WIDTHS["desktop"])

    def shot(self, name):
        folder = os.path.join(SHOTS, self.lang)
        os.makedirs(folder, exist_ok=True)
        for label, (w, h) in WIDTHS.items():
            self.d.set_window_size(w, h)
            # The whole page, not only the first screen.
            height = self.d.execute_script("return document.documentElement.scrollHeight")
            self.d.set_window_size(w, min(max(h, height), 4000))
            self.d.save_screenshot(os.path.join(folder, f"{name}-{label}.png"))
        self.d.set_window_size(*WIDTHS["desktop"])

    def fill(self, field_id, value):
        el = self.d.find_element(By.ID, field_id)
        el.clear()
        el.send_keys(value)

    def submit(self, form_action):
        old = self.d.find_element(By.TAG_NAME, "html")
        self.d.find_element(By.CSS_SELECTOR, f"form[action='{form_action}'] button[type=submit]").click()
        try:
            self.wait.until(lambda d: stale(old))
        except Exception:
            invalid = self.d.execute_script(
                "return [...document.querySelectorAll(':invalid')].map(e => e.id + ': ' + e.validationMessage)")
            self.d.save_screenshot(os.path.join(SHOTS, f"failed-{self.lang}-{self.name}.png"))
            raise AssertionError(f"the form {form_action} did not submit at {self.d.current_url}; invalid: {invalid}")
        return self.page()

    def sign_out(self):
        self.d.find_element(By.CSS_SELECTOR, "form[action='/auth/sign_out'] button").click()
        self.wait.until(lambda d: "/auth/sign_out" not in d.current_url and d.find_elements(By.CSS_SELECTOR, "a[href='/auth/sign_in']"))


def join(p, code, username, shots=False):
    html = p.open(f"/join/{code}")
    assert TEXT[p.lang]["join"] in html, html
    if shots:
        p.shot("join")
    p.fill("username", username)
    p.fill("email", f"{username}@example.com")
    p.fill("password", PASSWORD)
    p.fill("tenure_from", "2008-04")
    p.fill("tenure_to", "2019-03")
    p.fill("divisions", "R&D")
    p.d.find_element(By.NAME, "consent_directory").click()
    p.d.find_element(By.ID, "agreement").click()
    html = p.submit(f"/join/{code}")
    assert p.d.current_url.endswith("/home?joined=1"), p.d.current_url
    assert TEXT[p.lang]["joined"] in html
    return html


def compose(p, text, visibility, org="ACME Alumni"):
    p.open("/home")
    p.fill("text", text)
    Select(p.d.find_element(By.ID, "audience")).select_by_visible_text(org)
    Select(p.d.find_element(By.ID, "visibility")).select_by_value(visibility)
    html = p.submit("/post")
    assert TEXT[p.lang]["posted"] in html, html


def run(lang, org_id):
    t = TEXT[lang]
    code = api("POST", f"/api/v1/orgs/{org_id}/invites", ADMIN, json={"role": "alumnus"})["code"]
    hanako, jiro, fumiko, visitor = f"hanako_{lang}", f"jiro_{lang}", f"fumiko_{lang}", None
    p = Person(lang, hanako)
    try:
        # The landing page lists the org; the invitation signs up into it.
        html = p.open("/")
        assert "ACME Alumni" in html
        p.shot("landing")
        home = join(p, code, hanako, shots=True)
        p.shot("home")
        members = api("GET", f"/api/v1/orgs/{org_id}/members", ADMIN)
        me = next(m for m in members if m["account"]["username"] == hanako)
        assert me["state"] == "verified" and me["tenure_from"] == "2008-04", me
        assert me["divisions"] == ["R&D"] and me["consents"]["directory"] is True, me

        # Two-factor sign-in: set up with the app's code, then sign in again with one.
        p.open("/settings/security")
        p.fill("begin-password", PASSWORD)
        p.submit("/settings/two_factor/begin")
        p.shot("two-factor-setup")
        secret = p.d.find_element(By.ID, "totp-secret").text.strip()
        totp = pyotp.TOTP(secret)
        p.fill("enable-code", totp.now())
        html = p.submit("/settings/two_factor/enable")
        assert t["codes"] in html
        assert len(p.d.find_elements(By.CSS_SELECTOR, "#recovery-codes li")) == 10
        p.shot("two-factor-on")
        p.sign_out()
        p.open("/auth/sign_in")
        p.shot("sign-in")
        p.fill("login", hanako)
        p.fill("password", PASSWORD)
        html = p.submit("/auth/sign_in")
        assert t["two_factor"] in html, html
        p.shot("two-factor-code")
        # The code used to turn it on is spent: the app's next one.
        p.fill("code", totp.at(time.time() + 30))
        p.submit("/auth/two_factor")
        assert p.d.current_url.endswith("/home"), p.d.current_url

        # A members-only post and a public post into the org.
        compose(p, f"Reunion dinner, members only ({lang})", "members")
        compose(p, f"Open house for everyone ({lang})", "public")
        html = p.open("/home")
        assert t["members_only"] in html
        p.shot("home-posts")
        # With the page's script: the compose form counts down, and a
        # timeline offers posts that arrived since it was opened.
        p.d.find_element(By.ID, "text").send_keys("x" * 20)
        assert p.d.find_element(By.ID, "text-count").text == t["left"].format(480)
        p.open("/local")
        assert not p.d.find_element(By.ID, "new-posts").is_displayed()
        api("POST", "/api/v1/statuses", ADMIN, data={"status": f"Office hours moved ({lang})"})
        p.d.execute_script("window.dispatchEvent(new Event('focus'))")
        p.wait.until(lambda d: d.find_element(By.ID, "new-posts").is_displayed())
        assert "1" in p.d.find_element(By.ID, "new-posts").text
        for path in ["/local", "/notifications", "/search?q=Reunion", "/settings", f"/orgs/{org_id}/timeline"]:
            p.open(path)
        # A thread page, from a post's time link.
        p.open("/home")
        thread = p.d.find_element(By.CSS_SELECTOR, "article.post footer a[href*='/posts/']").get_attribute("href")
        html = p.open(thread.replace(BASE, ""))
        assert "in_reply_to_id" in html
        p.shot("thread")
        p.shot("settings")

        # Another member sees the members-only post.
        q = Person(lang, jiro)
        try:
            html = join(q, code, jiro)
            assert f"Reunion dinner, members only ({lang})" in html, html
        finally:
            q.quit()

        # A follower who is not a member sees the public post only.
        app = api("POST", "/api/v1/apps", data={"client_name": "browser", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})
        app_token = api("POST", "/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": "write"})["access_token"]
        api("POST", "/api/v1/accounts", app_token, data={"username": fumiko, "email": f"{fumiko}@example.com", "password": PASSWORD, "agreement": "true", "locale": lang})
        f = Person(lang, fumiko)
        try:
            f.open("/auth/sign_in")
            f.fill("login", fumiko)
            f.fill("password", PASSWORD)
            f.submit("/auth/sign_in")
            html = f.open(f"/@{hanako}")
            f.shot("profile-signed-in")
            follow = f.d.find_element(By.CSS_SELECTOR, "form[action$='/follow']").get_attribute("action")
            html = f.submit(follow.replace(BASE, ""))
            assert t["followed"] in html, html
            html = f.open("/home")
            assert f"Open house for everyone ({lang})" in html, html
            assert "Reunion dinner" not in html, "a follower who is no member must not see it"
            html = f.open("/search?q=Reunion")
            assert "Reunion dinner" not in html, "nor find it"
            f.open(f"/orgs/{org_id}/join")
            f.shot("request-membership")
        finally:
            f.quit()

        # A visitor: the org's page shows the shared post in full.
        p.sign_out()
        html = p.open("/@acme")
        assert t["shared"] in html, html
        assert f"Open house for everyone ({lang})" in html
        assert "Reunion dinner" not in html
        p.shot("org")
        # Every other page a visitor can reach, errors included.
        for path in ["/auth/sign_up", "/auth/password", "/auth/reset?token=not-a-token",
                     "/auth/confirm?token=not-a-token", "/join/not-a-code", f"/@{hanako}"]:
            p.open(path)
        status = p.d.find_element(By.CSS_SELECTOR, "article.post footer a").get_attribute("href")
        assert f"/@{hanako}/" in status, status
        html = p.open(status.replace(BASE, ""))
        assert 'property="og:title"' in html
        p.shot("status")
        p.open("/auth/sign_up")
        p.shot("sign-up")
    finally:
        p.quit()


def main():
    org = api("POST", "/api/v1/orgs", ADMIN, json={"username": "acme", "display_name": "ACME Alumni", "note": "The alumni network of ACME Corporation."})
    for lang in ["ja", "en"]:
        run(lang, org["id"])
    print("browser member web acceptance: OK")


if __name__ == "__main__":
    main()
