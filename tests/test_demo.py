"""The README's first command: `forum demo` migrates, seeds a new database, prints the logins and
serves the app on the given host and port."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request

import pytest

from tests.liveserver import demo_server


@pytest.fixture
def demo(tmp_path):
    with demo_server(tmp_path) as server:
        yield server


def test_forum_demo_serves_the_seeded_app_and_prints_the_logins(demo):
    base = demo.url
    printed = demo.log.read_text()
    for email in ("procurement@example.com", "product@example.com", "risk@example.com",
                  "exec@example.com", "auditor@example.com", "admin@example.com"):
        assert email in printed
    assert "forum-demo" in printed

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"email": "procurement@example.com", "password": "forum-demo", "csrf_token": token}
    ).encode()
    home = opener.open(f"{base}/login", data=body).read().decode()
    assert "Items I filed" in home
    items = opener.open(f"{base}/items").read().decode()
    assert re.search(r"\b2\d items?\b|\b[2-9]\d items\b", items), "the demo set lists 20+ items"
