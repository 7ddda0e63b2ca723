"""Acceptance: the real `toot` CLI logs in through the browser (OOB) flow.

toot prints the authorisation URL and asks for the code; this script plays
the person: it opens the URL, signs in on the HTML form, and types the code.
Usage: python toot_login.py BASE_URL TOOT_EXECUTABLE
(the account tomo / correct horse battery staple must exist)
"""
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import requests

BASE, TOOT = sys.argv[1], sys.argv[2]


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def run(*args, stdin=None):
    return subprocess.run([TOOT, *args], input=stdin, capture_output=True, text=True, timeout=60, env=os.environ)


def main():
    proc = subprocess.Popen(
        [TOOT, "login", "--instance", BASE],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("http"):
            url = line.strip()
            break
    assert url, "toot printed no login URL: " + "".join(seen) + proc.stderr.read()

    browser = requests.Session()
    page = browser.get(url)
    assert page.status_code == 200, page.text
    form = FormParser()
    form.feed(page.text)
    data = dict(form.fields)
    data.update(username="tomo", password="correct horse battery staple", decision="authorize")
    done = browser.post(BASE + "/oauth/authorize", data=data)
    assert done.status_code == 200, done.text
    code = re.search(r'id="authorization-code">\s*([^<\s]+)\s*<', done.text).group(1)

    out, err = proc.communicate(f"n\n{code}\n", timeout=60)
    assert proc.returncode == 0, f"toot login failed: {out}\n{err}"
    assert "Successfully logged in" in out, out

    who = run("whoami")
    assert who.returncode == 0, who.stderr
    assert "@tomo" in who.stdout, who.stdout

    auth = run("auth")
    assert auth.returncode == 0, auth.stderr
    assert "tomo" in auth.stdout, auth.stdout
    print("toot acceptance: OK")


if __name__ == "__main__":
    main()
