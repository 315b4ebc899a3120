"""The load generator of bench/load.py: one page per locust run, described by BENCH_PLAN (JSON).

Each simulated user holds the logged-in session cookie that bench/load.py got from a real login
POST (with its CSRF token), or the API token for the evidence upload, and requests the page
again as soon as the answer arrives (no think time): the server's throughput at that many
concurrent users. Any status other than the expected one counts as an error.

    BENCH_PLAN='{"name": …, "method": "GET", "paths": ["/items"], "cookie": "session=…"}' \
        locust -f bench/locustfile.py --headless -u 20 -r 20 -t 20s --host http://127.0.0.1:8765
"""

from __future__ import annotations

import itertools
import json
import os
from http.cookiejar import Cookie
from pathlib import Path
from urllib.parse import urlparse

from locust import FastHttpUser, constant, task

PLAN = json.loads(os.environ.get("BENCH_PLAN", "{}"))
BODY = Path(PLAN["body_file"]).read_bytes() if PLAN.get("body_file") else b""
_PATHS = itertools.cycle(PLAN.get("paths") or ["/"])  # shared: users spread over the paths


class Visitor(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        """Start logged in, like a browser holding the session cookie: the cookie goes into
        this user's jar (which then follows the server's Set-Cookie like a browser would)."""
        host = urlparse(self.host).hostname
        for part in filter(None, (PLAN.get("cookie") or "").split("; ")):
            name, value = part.split("=", 1)
            self.client.cookiejar.set_cookie(Cookie(
                0, name, value, None, False, host, False, False, "/", True, False, None, False,
                None, None, {}))

    @task
    def request(self) -> None:
        headers = {"User-Agent": PLAN.get("user_agent", "locust")}
        if PLAN.get("token"):
            headers["Authorization"] = f"Bearer {PLAN['token']}"
        path = next(_PATHS)
        if PLAN.get("method", "GET") == "GET":
            response_cm = self.client.get(path, name=PLAN["name"], headers=headers,
                                          allow_redirects=False, catch_response=True)
        else:
            headers["Content-Type"] = PLAN.get("content_type", "application/octet-stream")
            response_cm = self.client.post(path, name=PLAN["name"], headers=headers, data=BODY,
                                           allow_redirects=False, catch_response=True)
        with response_cm as response:
            if response.status_code != PLAN.get("expect", 200):
                response.failure(f"status {response.status_code}")
