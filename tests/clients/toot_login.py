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
    # Post, then read it back on the home timeline and as a single status.
    posted = run("post", "近況: 大阪に戻りました #alumni", "--visibility", "public", "--language", "ja")
    assert posted.returncode == 0, posted.stderr
    assert "Toot posted" in posted.stdout, posted.stdout
    status_id = posted.stdout.strip().rstrip("/").split("/")[-1]
    timeline = run("timelines", "home", "--no-pager", "--no-clear", "--limit", "10")
    assert timeline.returncode == 0, timeline.stderr
    assert "大阪に戻りました" in timeline.stdout, timeline.stdout
    one = run("status", status_id)
    assert one.returncode == 0 and "#alumni" in one.stdout, one.stdout + one.stderr
    tagged = run("timelines", "tag", "alumni", "--no-pager", "--no-clear")
    assert "大阪" in tagged.stdout, tagged.stdout + tagged.stderr
    print("toot acceptance: OK")


if __name__ == "__main__":
    main()
