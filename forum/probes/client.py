"""One chat completion from an OpenAI-compatible endpoint, through httpx: the interface OpenAI,
Azure OpenAI, vLLM, Ollama, LM Studio and most gateways speak.

The call keeps to what a web request can afford and a hostile or broken endpoint could abuse:
its host must be on the allow-list (``FORUM_PROBE_HOSTS``), redirects are not followed, the whole
exchange has a deadline, the answer is read up to a size cap, and every failure — refused
connection, 4xx, 5xx, timeout, oversized or malformed answer — becomes a ProbeError whose message
says what happened, for the person probing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx


class ProbeError(Exception):
    """What went wrong, in words for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Answer:
    text: str
    latency_ms: int
    prompt_tokens: int | None
    completion_tokens: int | None


def parse_hosts(raw: str) -> frozenset[str]:
    """``FORUM_PROBE_HOSTS``: host names, or host:port, separated by commas (any case)."""
    return frozenset(part.strip().lower() for part in (raw or "").split(",") if part.strip())


def host_allowed(url: str, allowed: frozenset[str]) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    return host in allowed or f"{host}:{port}" in allowed


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _error_detail(body: bytes) -> str:
    try:
        data = json.loads(body)
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return f": {_short(message)}"
    except (ValueError, AttributeError):
        pass
    return ""


def complete(base_url: str, model: str, prompt: str, *, api_key: str, timeout: float, max_bytes: int,
             allowed: frozenset[str]) -> Answer:
    """Ask ``model`` at ``base_url`` (…/v1) to complete ``prompt`` as one user message."""
    url = base_url.rstrip("/") + "/chat/completions"
    if not host_allowed(url, allowed):
        raise ProbeError(f"{urlsplit(url).netloc or url} is not on the forum's list of model hosts "
                         "(FORUM_PROBE_HOSTS).")
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    started = time.perf_counter()
    deadline = started + timeout
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client:
            with client.stream("POST", url, json=body, headers=headers) as response:
                if response.is_redirect:
                    target = urlsplit(response.headers.get("location", "")).netloc or "another address"
                    raise ProbeError(f"The endpoint redirected to {target}; redirects are not followed.")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise ProbeError(f"The answer is larger than {max_bytes // 1024} KB; it was not kept.")
                    if time.perf_counter() > deadline:
                        raise ProbeError(f"No complete answer within {timeout:g} s.")
                status = response.status_code
    except httpx.TimeoutException as exc:
        raise ProbeError(f"No complete answer within {timeout:g} s.") from exc
    except httpx.HTTPError as exc:
        raise ProbeError(f"The endpoint could not be reached ({type(exc).__name__}).") from exc
    latency = int((time.perf_counter() - started) * 1000)
    if status >= 400:
        who = "refused the request" if status < 500 else "failed"
        raise ProbeError(f"The endpoint {who} with status {status}{_error_detail(bytes(data))}.")
    try:
        answer = json.loads(bytes(data))
        text = answer["choices"][0]["message"]["content"]
        if not isinstance(text, str):
            raise TypeError("content is not text")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProbeError("The endpoint's answer is not a chat completion (no choices[0].message.content).") from exc
    usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}

    def tokens(key: str) -> int | None:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    return Answer(text, latency, tokens("prompt_tokens"), tokens("completion_tokens"))
