"""Acceptance: the alumni office's pages in a real headless Chromium, in Japanese and in English.

For each language an office member (signed up from an office invitation)
opens the dashboard (network activity charts and tables), approves a
membership request, imports a roster saved as Shift_JIS with one bad row and
downloads the report of bad rows, changes a member's role and records an
employee as an alumnus, and pins an announcement that a member then sees on
their home page. Then the office rejects a request with a reason, invites
by a shared link (this server has no mail transport: the page offers no
e-mail) and withdraws it, recognises a club, blocks a server and lifts the block,
and gives the org a description and a logo. Every page is checked with axe-core (no serious or critical
violation) and nothing is loaded from elsewhere (the checks of
browser_member_web.Person).
Usage: python browser_office.py BASE_URL ADMIN_TOKEN SCREENSHOT_DIR AXE_JS
"""
import os

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_member_web import ADMIN, BASE, PASSWORD, Person, api, join

TEXT = {
    "ja": {
        "office": "事務局", "activity": "ネットワークの活動", "chart": "役割別のメンバー数", "approved": "申請を承認しました",
        "preview": "まだ何も変わっていません", "done": "名簿を取り込みました", "role": "役割を変えました",
        "graduated": "卒業生として記録しました", "announced": "お知らせを公開しました", "announcements": "所属組織からのお知らせ",
        "rejected": "申請を却下しました", "link": "招待リンクを作成しました", "no-mail": "このサーバーはメールを送れません", "revoked": "招待を取り消しました",
        "recognised": "クラブを公認しました", "blocked": "ブロックしました", "unblocked": "ブロックを解除しました", "saved": "プロフィールを保存しました",
    },
    "en": {
        "office": "Office", "activity": "Network activity", "chart": "Members by role", "approved": "The request is approved",
        "preview": "Nothing has changed yet", "done": "The roster is imported.", "role": "The role is changed.",
        "graduated": "Recorded as an alumna or alumnus", "announced": "The announcement is published", "announcements": "Announcements from your organisations",
        "rejected": "The request is rejected", "link": "The invitation link is ready", "no-mail": "This server cannot send e-mail", "revoked": "The invitation is withdrawn",
        "recognised": "The club is recognised.", "blocked": "Blocked.", "unblocked": "No longer blocked.", "saved": "The profile is saved",
    },
}

LOGO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "src", "web", "static", "thumbnail.png"))

ROSTER = (
    "email,name,tenure_from,tenure_to,divisions,role\r\n"
    "suzuki.{lang}@example.org,鈴木一郎,2001,2015,電池事業部,alumnus\r\n"
    "tanaka.{lang}@example.org,田中花子,2010,,ヘルスケア,employee\r\n"
    "not-an-address,佐藤次郎,2001,2002,,alumnus\r\n"
)


def account(username, lang):
    """A person who signs up through the API (as an app would) and asks to join."""
    app = api("POST", "/api/v1/apps", data={"client_name": "office test", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})
    token = api("POST", "/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": "read write"})["access_token"]
    return api("POST", "/api/v1/accounts", token, data={"username": username, "email": f"{username}@example.com", "password": PASSWORD, "agreement": "true", "locale": lang})["access_token"]


def member_id(org_id, username):
    members = api("GET", f"/api/v1/orgs/{org_id}/members", ADMIN)
    return next(m for m in members if m["account"]["username"] == username)["account"]["id"]


def run(lang, org_id, tmp):
    t = TEXT[lang]
    office_code = api("POST", f"/api/v1/orgs/{org_id}/invites", ADMIN, json={"role": "office"})["code"]
    employee_code = api("POST", f"/api/v1/orgs/{org_id}/invites", ADMIN, json={"role": "employee"})["code"]
    asker = f"kenji_{lang}"
    asker_token = account(asker, lang)
    api("POST", f"/api/v1/orgs/{org_id}/membership_requests", asker_token, json={"role": "alumnus", "tenure_from": "2003", "tenure_to": "2018", "divisions": ["Battery"], "message": "I was in Osaka."})
    p = Person(lang, f"office_{lang}")
    e = Person(lang, f"jiro_{lang}")
    m = Person(lang, asker)
    try:
        join(e, employee_code, f"jiro_{lang}")
        join(p, office_code, f"office_{lang}")
        # The header leads the office to its dashboard.
        p.d.find_element(By.CSS_SELECTOR, "header.site a[href='/office']").click()
        html = p.page()
        assert "ACME Alumni" in html, html
        p.d.find_element(By.CSS_SELECTOR, f"main a[href='/office/orgs/{org_id}']").click()
        html = p.page()
        assert t["activity"] in html and t["chart"] in html, html
        assert html.count('<svg class="chart" role="img"') == 6, html
        p.shot("dashboard")
        html = p.open(f"/office/orgs/{org_id}?period=365")
        assert "<title>" in html

        # The request, with its claim, approved.
        html = p.open(f"/office/orgs/{org_id}/requests")
        assert asker in html and "Battery" in html and "I was in Osaka." in html, html
        p.shot("requests")
        form = p.d.find_element(By.XPATH, f"//article[.//a[contains(., '{asker}')]]//form[contains(@action, '/approve')]")
        html = p.submit(form.get_attribute("action").replace(BASE, ""))
        assert t["approved"] in html, html
        assert api("GET", f"/api/v1/orgs/{org_id}/membership", asker_token)["state"] == "verified"

        # A roster saved by Excel as Shift_JIS, one row bad: preview, import, report.
        path = f"{tmp}/roster-{lang}.csv"
        with open(path, "wb") as f:
            f.write(ROSTER.format(lang=lang).encode("shift_jis"))
        p.open(f"/office/orgs/{org_id}/roster")
        p.d.find_element(By.ID, "file").send_keys(path)
        html = p.submit(f"/office/orgs/{org_id}/roster")
        assert t["preview"] in html and "Shift_JIS" in html and "not-an-address" in html, html
        p.shot("roster-preview")
        job = p.d.current_url.replace(BASE, "")
        p.submit(f"{job}/start")
        p.wait.until(lambda d: t["done"] in d.page_source)
        html = p.page()
        p.shot("roster-done")
        link = p.d.find_element(By.CSS_SELECTOR, "a[href$='/bad_rows.csv']").get_attribute("href")
        cookies = {c["name"]: c["value"] for c in p.d.get_cookies()}
        report = requests.get(link, cookies=cookies, timeout=30)
        assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv"), report.text
        assert "not-an-address" in report.text and len(report.text.strip().splitlines()) == 2, report.text

        # A role changed, an employee recorded as alumnus.
        asker_id = member_id(org_id, asker)
        p.open(f"/office/orgs/{org_id}/members?q={asker}")
        Select(p.d.find_element(By.ID, f"role-{asker_id}")).select_by_value("employee")
        html = p.submit(f"/office/orgs/{org_id}/members/{asker_id}/role")
        assert t["role"] in html, html
        jiro_id = member_id(org_id, f"jiro_{lang}")
        p.open(f"/office/orgs/{org_id}/members?q=jiro_{lang}")
        p.shot("members")
        html = p.submit(f"/office/orgs/{org_id}/members/{jiro_id}/graduate")
        assert t["graduated"] in html, html
        members = {m["account"]["username"]: m for m in api("GET", f"/api/v1/orgs/{org_id}/members", ADMIN)}
        assert members[asker]["role"] == "employee", members[asker]
        assert members[f"jiro_{lang}"]["role"] == "alumnus" and members[f"jiro_{lang}"]["left_on"], members[f"jiro_{lang}"]

        # A pinned announcement, seen by the member on their home page.
        p.open(f"/office/orgs/{org_id}/announcements")
        p.fill("text", f"Homecoming day: 12 December ({lang})")
        html = p.submit(f"/office/orgs/{org_id}/announcements")
        assert t["announced"] in html and f"Homecoming day: 12 December ({lang})" in html, html
        p.shot("announcements")
        m.open("/auth/sign_in")
        m.fill("login", asker)
        m.fill("password", PASSWORD)
        html = m.submit("/auth/sign_in")
        html = m.open("/home")
        assert t["announcements"] in html and f"Homecoming day: 12 December ({lang})" in html, html
        assert "href=\"/office\"" not in html
        # A member is not the office.
        m.d.get(BASE + f"/office/orgs/{org_id}")
        assert "403" in m.d.title or m.d.find_elements(By.CSS_SELECTOR, "p.error"), m.d.page_source
        more_office_work(p, t, lang, org_id, asker_token)
    finally:
        for person in (p, e, m):
            person.quit()


def more_office_work(p, t, lang, org_id, club_founder_token):
    """Rejection with a reason, invitations, clubs, blocks and the profile."""
    # A request rejected, with a reason for the person.
    hopeful = f"yuki_{lang}"
    hopeful_token = account(hopeful, lang)
    api("POST", f"/api/v1/orgs/{org_id}/membership_requests", hopeful_token, json={"role": "alumnus", "message": "Hello"})
    p.open(f"/office/orgs/{org_id}/requests")
    article = p.d.find_element(By.XPATH, f"//article[.//a[contains(., '{hopeful}')]]")
    article.find_element(By.TAG_NAME, "summary").click()
    form = article.find_element(By.CSS_SELECTOR, "form[action$='/reject']")
    reason = form.find_element(By.TAG_NAME, "textarea")
    reason.send_keys("We could not find you in the roster; please write to the office.")
    p.shot("reject-with-reason")
    html = p.submit(form.get_attribute("action").replace(BASE, ""))
    assert t["rejected"] in html, html
    assert api("GET", f"/api/v1/orgs/{org_id}/membership", hopeful_token)["state"] == "rejected"

    # Invitations: a shared link shown to copy, then withdrawn; single-use
    # links sent by e-mail.
    page = f"/office/orgs/{org_id}/invitations"
    p.open(page)
    Select(p.d.find_element(By.ID, "invite-role")).select_by_value("employee")
    Select(p.d.find_element(By.ID, "invite-days")).select_by_value("7")
    uses = {"ja": 20, "en": 21}[lang]  # the list keeps withdrawn links too
    p.fill("max_uses", str(uses))
    html = p.submit(page)
    assert t["link"] in html, html
    codes = [i["code"] for i in api("GET", f"/api/v1/orgs/{org_id}/invites", ADMIN) if i["role"] == "employee" and i.get("max_uses") == uses]
    assert len(codes) == 1 and f"/join/{codes[0]}" in html, (codes, html)
    # This server has no mail transport: the page says so and offers links
    # only (mailed invitations are tested through the router, tests/api).
    assert not p.d.find_element(By.ID, "emails").is_enabled()
    assert t["no-mail"] in html, html
    p.shot("invitations")
    invite_id = next(i["id"] for i in api("GET", f"/api/v1/orgs/{org_id}/invites", ADMIN) if i["code"] == codes[0])
    html = p.submit(f"{page}/{invite_id}/revoke")
    assert t["revoked"] in html and f"/join/{codes[0]}" not in html, html

    # A club founded by a member, recognised by the office.
    club = api("POST", "/api/v1/orgs", club_founder_token, json={"username": f"tennis_{lang}", "kind": "club", "display_name": f"Tennis ({lang})"})
    p.open(f"/office/orgs/{org_id}/clubs")
    html = p.submit(f"/office/orgs/{org_id}/clubs/{club['id']}/recognise")
    assert t["recognised"] in html and f"id=\"club-{club['id']}\"" in html, html
    p.shot("clubs")
    recognised = api("GET", f"/api/v1/orgs/{org_id}/recognitions")["recognizes"]
    assert any(c["id"] == club["id"] for c in recognised), recognised

    # A server blocked, then unblocked.
    page = f"/office/orgs/{org_id}/blocks"
    p.open(page)
    p.fill("block-domain", f"spam-{lang}.example")
    html = p.submit(page)
    assert t["blocked"] in html and f"spam-{lang}.example" in html, html
    p.shot("blocks")
    blocks = api("GET", f"/api/v1/orgs/{org_id}/blocks", ADMIN)
    block = next(b for b in blocks if b["domain"] == f"spam-{lang}.example")
    html = p.submit(f"{page}/{block['id']}/remove")
    assert t["unblocked"] in html and f"spam-{lang}.example" not in html, html

    # The org's profile: a description, a field and a logo.
    page = f"/office/orgs/{org_id}/profile"
    p.open(page)
    p.fill("note", f"ACMEの卒業生ネットワークです ({lang})")
    p.fill("field_name_0", "Web")
    p.fill("field_value_0", "https://acme.example")
    p.d.find_element(By.ID, "avatar").send_keys(LOGO)
    html = p.submit(page)
    assert t["saved"] in html, html
    p.shot("profile")
    org = api("GET", f"/api/v1/accounts/{org_id}")
    assert f"({lang})" in org["note"] and org["fields"][0]["name"] == "Web", org
    assert "missing" not in org["avatar"], org


def main():
    import tempfile
    org = api("POST", "/api/v1/orgs", ADMIN, json={"username": "acme", "display_name": "ACME Alumni"})
    with tempfile.TemporaryDirectory() as tmp:
        for lang in ["ja", "en"]:
            run(lang, org["id"], tmp)
    print("browser office acceptance: OK")


if __name__ == "__main__":
    main()
