"""A real OpenAI-compatible chat-completions server for the probe tests: a small deterministic
HTTP server (the standard library's ThreadingHTTPServer) run as its own process on 127.0.0.1,
answering ``POST /v1/chat/completions`` the way OpenAI, vLLM or Ollama do, so that the forum talks
to it through its real client (httpx) over a real socket.

Each model answers "<model> answers: <prompt>", with token counts of its words. A prompt that
contains one of these words makes it misbehave instead:

* ``SLOW``: answers after 5 s (more than the tests' timeouts)
* ``FAIL500`` / ``FAIL400``: status 500 / 400 with an OpenAI-style ``{"error": {"message": ...}}``
* ``HUGE``: a 400 KB answer (over the forum's size cap in the tests)
* ``HTML``: an answer of HTML and script
* ``REDIRECT``: 307 to http://elsewhere.example/v1/chat/completions
* ``MALFORMED``: 200 with a body that is not JSON

Started with ``--key K``, it answers 401 to a request without ``Authorization: Bearer K``.
Every request it gets is appended to ``--log`` as one JSON line (path, model, authorization).

    with ModelServer(key="sekret") as server:
        server.base_url       # http://127.0.0.1:<port>/v1
        server.requests()     # what it received
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Handler(BaseHTTPRequestHandler):
    key = ""
    log: Path

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # readiness
        self._send(200, b'{"ok": true}')

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            request = json.loads(raw)
            model, prompt = request["model"], request["messages"][-1]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            self._send(400, json.dumps({"error": {"message": "not a chat completion request"}}).encode())
            return
        with self.log.open("a") as out:
            out.write(json.dumps({"path": self.path, "model": model,
                                  "authorization": self.headers.get("Authorization", "")}) + "\n")
        if self.path != "/v1/chat/completions":
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}).encode())
            return
        if self.key and self.headers.get("Authorization") != f"Bearer {self.key}":
            self._send(401, json.dumps({"error": {"message": "Incorrect API key provided"}}).encode())
            return
        if "SLOW" in prompt:
            time.sleep(5)
        if "FAIL500" in prompt:
            self._send(500, json.dumps({"error": {"message": "The server is overloaded"}}).encode())
            return
        if "FAIL400" in prompt:
            self._send(400, json.dumps({"error": {"message": f"The model {model} does not exist"}}).encode())
            return
        if "REDIRECT" in prompt:
            self._send(307, b"", {"Location": "http://elsewhere.example/v1/chat/completions"})
            return
        if "MALFORMED" in prompt:
            self._send(200, b"<html>gateway error</html>")
            return
        if "HUGE" in prompt:
            content = "x" * 400_000
        elif "HTML" in prompt:
            content = '<script>alert("probe")</script><b>bold</b> & more'
        else:
            content = f"{model} answers: {prompt}"
        answer = {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                               "finish_reason": "stop"}],
                  "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(content.split()),
                            "total_tokens": len(prompt.split()) + len(content.split())}}
        self._send(200, json.dumps(answer).encode())


class ModelServer:
    """The server as a child process on a free port of 127.0.0.1."""

    def __init__(self, key: str = "") -> None:
        self.key = key
        self.folder = Path(tempfile.mkdtemp(prefix="modelserver-"))
        self.log = self.folder / "requests.jsonl"
        self.process: subprocess.Popen | None = None
        self.port = 0

    def __enter__(self) -> ModelServer:
        port_file = self.folder / "port"
        self.process = subprocess.Popen([sys.executable, __file__, "--key", self.key, "--log", str(self.log),
                                         "--port-file", str(port_file)])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if port_file.exists() and port_file.read_text().strip():
                self.port = int(port_file.read_text())
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2):
                        return self
                except OSError:
                    pass
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("the model server did not start")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", default="")
    parser.add_argument("--log", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    Handler.key, Handler.log = args.key, Path(args.log)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Path(args.port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
