"""Acceptance: the server-rendered pages in a real headless Chromium.

A person opens the first-run link, creates the administrator, then signs in
on the OAuth consent page (in Japanese) and gets an out-of-band code, which
then works as a token. Cookies (CSRF), CSP and forms behave as in a browser.
Usage: python browser_pages.py BASE_URL SETUP_LINK SCREENSHOT_DIR
"""
import os
import sys

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE, SETUP, SHOTS = sys.argv[1], sys.argv[2], sys.argv[3]
OOB = "urn:ietf:wg:oauth:2.0:oob"
PASSWORD = "a browser-typed password"


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--lang=ja", "--window-size=900,1000",
    ]:
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"intl.accept_languages": "ja,en"})
    # The Debian driver: no download of drivers or browsers.
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=opts, service=service)


def main():
    os.makedirs(SHOTS, exist_ok=True)
    d = browser()
    wait = WebDriverWait(d, 20)
    try:
        # First run: create the administrator.
        d.get(SETUP)
        assert "最初の管理者を作成" in d.page_source, d.page_source
        d.find_element(By.NAME, "username").send_keys("office")
        d.find_element(By.NAME, "email").send_keys("office@acme.example")
        d.find_element(By.NAME, "password").send_keys(PASSWORD)
        d.save_screenshot(os.path.join(SHOTS, "setup.png"))
        d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "管理者アカウントを作成しました"))

        # An app asks for access; the person signs in on the consent page.
        app = requests.post(BASE + "/api/v1/apps", data={
            "client_name": "Browser test", "redirect_uris": OOB, "scopes": "read write",
        }).json()
        d.get(f"{BASE}/oauth/authorize?client_id={app['client_id']}&redirect_uri={OOB}&response_type=code&scope=read")
        assert "Browser test を承認" in d.page_source, d.page_source
        d.find_element(By.NAME, "username").send_keys("office@acme.example")
        d.find_element(By.NAME, "password").send_keys("wrong password")
        d.find_element(By.CSS_SELECTOR, "button[value=authorize]").click()
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".error")))
        assert "正しくありません" in d.find_element(By.CSS_SELECTOR, ".error").text
        d.find_element(By.NAME, "password").send_keys(PASSWORD)
        d.save_screenshot(os.path.join(SHOTS, "authorize.png"))
        d.find_element(By.CSS_SELECTOR, "button[value=authorize]").click()
        code_el = wait.until(EC.presence_of_element_located((By.ID, "authorization-code")))
        code = code_el.text.strip()
        d.save_screenshot(os.path.join(SHOTS, "code.png"))
        assert len(code) > 20, code

        token = requests.post(BASE + "/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
            "client_secret": app["client_secret"], "redirect_uri": OOB,
        })
        assert token.status_code == 200, token.text
        me = requests.get(BASE + "/api/v1/accounts/verify_credentials",
                          headers={"Authorization": "Bearer " + token.json()["access_token"]}).json()
        assert me["username"] == "office" and me["role"]["name"] == "Owner", me
    finally:
        d.quit()
    print("browser acceptance: OK")


if __name__ == "__main__":
    main()
