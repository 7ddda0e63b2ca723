"""Acceptance: the alumni profile editor and an org's directory in a real headless Chromium, in Japanese and in English.

For each language (each with its own org) Hana signs up from an invitation,
fills in her alumni profile choosing who sees each field (her period there,
current company, industry, skills and "open to" for the org's members, her
title for its office only, her city for nobody), is refused a period with a
year that is not one (her other answers stay as typed), updates her "now"
line, and finds every choice kept. Jiro, a second member, opens the
directory: Hana's card shows what she released to members and nothing else;
the industry facet counts her and narrows to her; a filter on the country
she kept to herself finds nobody. Every page is checked with axe-core (no
serious or critical violation) and nothing is loaded from elsewhere
(browser_member_web.Person).
Usage: python browser_alumni.py BASE_URL ADMIN_TOKEN SCREENSHOT_DIR AXE_JS
"""
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser_member_web import ADMIN, Person, api, join

TEXT = {
    "ja": {
        "title": "卒業生プロフィール", "saved": "卒業生プロフィールを保存しました", "now_saved": "近況を更新しました",
        "not_saved": "保存していません", "tenures": "在籍期間", "healthcare": "医療・ヘルスケア", "mentoring": "メンタリング",
        "directory": "ACME Alumni の名簿", "one": "1人", "nobody": "該当する人がいません", "verified_hint": "公開範囲：ACME Alumni のメンバー", "year_error": "在籍年(から)の形式が正しくありません",
    },
    "en": {
        "title": "Alumni profile", "saved": "Your alumni profile is saved", "now_saved": "Your \"now\" line is updated",
        "not_saved": "Nothing was saved", "tenures": "Your time at the organisations", "healthcare": "Healthcare", "mentoring": "Mentoring",
        "directory": "Directory of ACME Alumni", "one": "One person", "nobody": "Nobody matches", "verified_hint": "Shown to: Members of ACME Alumni", "year_error": "Years at the organisation, from: not valid",
    },
}


def tick(p, field, token):
    box = p.d.find_element(By.CSS_SELECTOR, f"input[name='audience-{field}'][value='{token}']")
    if not box.is_selected():
        box.click()


def run(lang):
    t = TEXT[lang]
    org = api("POST", "/api/v1/orgs", ADMIN, json={"username": f"acme_{lang}", "display_name": "ACME Alumni"})
    org_id = org["id"]
    code = api("POST", f"/api/v1/orgs/{org_id}/invites", ADMIN, json={"role": "alumnus", "max_uses": 5})["code"]
    hana, jiro = Person(lang, f"hana_{lang}"), Person(lang, f"jiro_{lang}")
    try:
        join(hana, code, f"hana_{lang}")
        join(jiro, code, f"jiro_{lang}")

        # The editor: reached from the settings, every field with its audience.
        hana.open("/settings")
        hana.d.find_element(By.CSS_SELECTOR, "main a[href='/settings/alumni']").click()
        html = hana.page()
        assert t["title"] in html and t["tenures"] in html, html
        members, office = f"members:{org_id}", f"office:{org_id}"
        hana.fill("tenure-0-from", "2008")
        hana.fill("tenure-0-to", "2019")
        hana.fill("tenure-0-division", "電池事業部")
        hana.fill("tenure-0-title", "主任")
        hana.fill("current_org", "Kyoto Health")
        hana.fill("title", "CTO")
        Select(hana.d.find_element(By.ID, "industry")).select_by_value("healthcare")
        hana.fill("city", "京都市")
        hana.fill("country", "JP")
        hana.fill("skills", "Rust、電池")
        for code in ["ja", "en"]:
            hana.d.find_element(By.CSS_SELECTOR, f"input[name='languages'][value='{code}']").click()
        hana.fill("other_languages", "pt-BR")
        for value in ["mentoring", "comeback"]:
            hana.d.find_element(By.CSS_SELECTOR, f"input[name='open_to'][value='{value}']").click()
        for field in ["tenures", "current_org", "industry", "skills", "languages", "open_to"]:
            tick(hana, field, members)
        tick(hana, "title", office)
        html = hana.submit("/settings/alumni")
        assert t["saved"] in html, html
        # A second period whose end is not a year: refused, what was typed kept.
        hana.fill("tenure-1-from", "2020")
        hana.fill("tenure-1-to", "soon")
        hana.fill("current_org", "Kyoto Health KK")
        html = hana.submit("/settings/alumni")
        assert t["not_saved"] in html and 'href="#tenures"' in html, html
        assert hana.d.find_element(By.ID, "current_org").get_attribute("value") == "Kyoto Health KK"
        assert hana.d.find_element(By.ID, "tenure-1-to").get_attribute("value") == "soon"
        hana.shot("alumni-profile-error")
        hana.fill("tenure-1-from", "")
        hana.fill("tenure-1-to", "")
        html = hana.submit("/settings/alumni")
        assert t["saved"] in html, html

        # The "now" line alone; its audience chosen in the main form.
        tick(hana, "now", members)
        hana.submit("/settings/alumni")
        hana.fill("now", "京都で医療データの会社を始めました")
        html = hana.submit("/settings/alumni/now")
        assert t["now_saved"] in html and "京都で医療データの会社を始めました" in html, html

        # Everything as chosen after a fresh load.
        html = hana.open("/settings/alumni")
        hana.shot("alumni-profile")
        assert hana.d.find_element(By.ID, "tenure-0-division").get_attribute("value") == "電池事業部"
        assert hana.d.find_element(By.ID, "skills").get_attribute("value") == "Rust, 電池"
        assert hana.d.find_element(By.CSS_SELECTOR, "input[name='languages'][value='ja']").is_selected()
        assert hana.d.find_element(By.ID, "other_languages").get_attribute("value") == "pt-BR"
        assert hana.d.find_element(By.CSS_SELECTOR, f"input[name='audience-title'][value='{office}']").is_selected()
        assert not hana.d.find_element(By.CSS_SELECTOR, f"input[name='audience-title'][value='{members}']").is_selected()
        assert not hana.d.find_elements(By.CSS_SELECTOR, "input[name='audience-location']:checked")
        assert t["verified_hint"] in html, html

        # Jiro, a member: the directory shows what Hana released to members only.
        html = jiro.open("/home")
        jiro.d.find_element(By.CSS_SELECTOR, f"main a[href='/orgs/{org_id}/directory']").click()
        html = jiro.page()
        assert t["directory"] in html and f"@hana_{lang}@" in html and f"@jiro_{lang}@" in html, html
        for shown in ["2008–2019", "電池事業部", "Kyoto Health", t["healthcare"], "Rust", t["mentoring"], "京都で医療データ", "日本語, English, pt-BR"]:
            assert shown in html, (shown, html)
        for hidden in ["CTO", "京都市"]:
            assert hidden not in html, (hidden, html)
        jiro.shot("directory")
        # The industry facet counts her; ticking it narrows to her.
        box = jiro.d.find_element(By.CSS_SELECTOR, "input[name='industry'][value='healthcare']")
        label = box.find_element(By.XPATH, "..").text
        assert "(1)" in label, label
        box.click()
        html = jiro.submit(f"/orgs/{org_id}/directory")
        assert t["one"] in html and f"@hana_{lang}@" in html and f"@jiro_{lang}@" not in html, html
        # A year that is not one is refused in words, not silently dropped.
        html = jiro.open(f"/orgs/{org_id}/directory?tenure_from=abc")
        assert 'role="alert"' in html and t["year_error"] in html, html
        # A field she kept to herself cannot be searched.
        html = jiro.open(f"/orgs/{org_id}/directory?country=JP")
        assert t["nobody"] in html and f"hana_{lang}" not in html, html
        assert not jiro.d.find_elements(By.CSS_SELECTOR, "input[name='country']"), "no count for a hidden field"
    finally:
        hana.quit()
        jiro.quit()


def main():
    for lang in ["ja", "en"]:
        run(lang)
    print("browser alumni acceptance: OK")


if __name__ == "__main__":
    main()
