"""Start the real app in its own process (`forum demo`) on a free port, for tests that need a
real server: the demo command's own test and the browser journeys."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FORUM = Path(sys.executable).parent / "forum"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log: Path, deadline_s: float = 90.0) -> None:
    """Poll until the server answers (readiness, not a fixed sleep); fail if it exits first."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            pytest.fail(f"forum demo exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"forum demo did not answer at {url} within {deadline_s}s:\n{log.read_text()}")


@dataclass
class LiveServer:
    url: str
    log: Path
    database_url: str


@contextlib.contextmanager
def demo_server(workdir: Path, settings: dict[str, str] | None = None, port: int | None = None) -> Iterator[LiveServer]:
    """`forum demo` on a fresh SQLite database in ``workdir``: migrated, seeded, serving.
    ``settings``: further FORUM_* environment variables (single sign-on, say)."""
    port = port or free_port()
    database_url = f"sqlite:///{workdir / 'demo.db'}"
    env = dict(os.environ, FORUM_DATABASE_URL=database_url, FORUM_INSTANCE_PATH=str(workdir / "instance"),
               **(settings or {}))
    log = workdir / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(FORUM), "demo", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{base}/login", process, log)
            yield LiveServer(url=base, log=log, database_url=database_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
