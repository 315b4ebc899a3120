"""The README's first command: `forum demo` migrates, seeds a new database, prints the logins and
serves the app on the given host and port."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

FORUM = Path(sys.executable).parent / "forum"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, deadline_s: float = 60.0) -> None:
    """Poll until the server answers (readiness, not a fixed sleep); fail if it exits first."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"forum demo exited with {process.returncode}:\n{out}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"forum demo did not answer at {url} within {deadline_s}s")


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    env = dict(os.environ)
    env.update(FORUM_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}", FORUM_INSTANCE_PATH=str(tmp_path / "instance"))
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(FORUM), "demo", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, text=True,
        )
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/login", process)
            yield f"http://127.0.0.1:{port}", log
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_forum_demo_serves_the_seeded_app_and_prints_the_logins(demo_server):
    base, log = demo_server
    printed = log.read_text()
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
