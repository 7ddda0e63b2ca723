"""Acceptance: the instance administrator's pages in a real headless Chromium, in Japanese and in English.

For each language a member reports a spammer's post through the API (as an
app does); the administrator signs in, follows the header's link to the
admin pages, opens the report, sees the reported post, suspends the account
and resolves the report (the spammer's token stops working), then blocks a
remote server from the servers page. Every page is checked with axe-core (no
serious or critical violation) and nothing is loaded from elsewhere (the
checks of browser_member_web.Person). The Rust side proves the blocked
server's deliveries are refused afterwards.
Usage: python browser_admin.py BASE_URL ADMIN_TOKEN SCREENSHOT_DIR AXE_JS
"""
import requests
from selenium.webdriver.common.by import By

from browser_member_web import BASE, Person, api
from browser_office import account

TEXT = {
    "ja": {
        "admin": "サーバー管理", "report": "さんへの通報", "suspended": "アカウントを停止し、通報を解決しました",
        "blocked": "サーバーをブロックしました", "resolved": "対応済み", "spam": "スパム",
    },
    "en": {
        "admin": "Server administration", "report": "Report about", "suspended": "The account is suspended and the report resolved",
        "blocked": "The server is blocked", "resolved": "Resolved on", "spam": "Spam",
    },
}


def run(lang):
    t = TEXT[lang]
    reporter = account(f"reporter_{lang}", lang)
    spammer_name = f"spammer_{lang}"
    spammer = account(spammer_name, lang)
    spam = api("POST", "/api/v1/statuses", spammer, json={"status": f"Cheap watches, buy now ({lang})", "visibility": "public"})
    spammer_id = api("GET", f"/api/v1/accounts/lookup?acct={spammer_name}")["id"]
    api("POST", "/api/v1/reports", reporter, json={"account_id": spammer_id, "status_ids": [spam["id"]], "comment": "Spam in the alumni timeline", "category": "spam"})
    p = Person(lang, "admin")
    try:
        p.open("/auth/sign_in")
        p.fill("login", "admin")
        p.fill("password", "correct horse battery")
        p.submit("/auth/sign_in")
        p.open("/home")
        p.d.find_element(By.CSS_SELECTOR, "header.site a[href='/admin']").click()
        html = p.page()
        assert t["admin"] in html and spammer_name in html and t["spam"] in html, html
        p.shot("reports")
        link = p.d.find_element(By.XPATH, f"//article[contains(., '{spammer_name}')]//h3/a")
        link.click()
        html = p.page()
        assert t["report"] in html and f"Cheap watches, buy now ({lang})" in html, html
        p.shot("report")
        report_path = p.d.current_url.replace(BASE, "").split("?")[0]
        html = p.submit(f"{report_path}/suspend")
        assert t["suspended"] in html and t["resolved"] in html, html
        gone = requests.get(BASE + "/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer " + spammer}, timeout=30)
        assert gone.status_code == 403, gone.text

        # A server blocked from the servers page.
        p.open("/admin/domains")
        p.fill("domain", f"{lang}.remote.test")
        p.fill("private_comment", "spam wave")
        html = p.submit("/admin/domains")
        assert t["blocked"] in html and f"{lang}.remote.test" in html, html
        p.shot("domains")
        for page in ["/admin/accounts", "/admin/federation", "/admin/settings"]:
            html = p.open(page)
            assert t["admin"] in html, (page, html)
        p.shot("settings")
    finally:
        p.quit()


def main():
    for lang in ["ja", "en"]:
        run(lang)
    print("browser admin acceptance: OK")


if __name__ == "__main__":
    main()
