"""A real OpenID Provider for tests: starts ``tests/oidc/provider.mjs`` (the npm package
``oidc-provider``) as a child process and walks its login and logout pages with ``requests``.

Typical use from a fixture::

    ensure_installed()
    with OidcProvider(clients=[{...}], accounts={"alice": {...}}) as op:
        op.issuer                       # http://127.0.0.1:<port>
        redirect = sign_in(http, authorize_url, "alice", "http://localhost/login/oidc/callback")
        op.set_accounts({...})          # change who is in which group
        op.tamper("nonce")              # next token responses carry a bad ID token
        op.tamper(None)
        op.restart(kid="key-2")         # same port, new signing key
        confirm_logout(http, end_session_url)

Pages handled (the provider serves them itself, all at the issuer's host):

* ``GET <issuer>/auth?...`` redirects (303) to ``/interaction/<uid>``: our login page, a
  ``<form id="login-form" method="post" action="/interaction/<uid>/login">`` with fields
  ``login`` (the account id, which becomes ``sub``) and ``password`` (ignored). A known
  account redirects back to ``/auth/<uid>`` and then to the client's redirect_uri with
  ``code``, ``state`` and ``iss``; an unknown one gets the same form again with a
  ``<p class="error">Unknown account: ...</p>``. There is no consent page: the provider
  grants every requested scope and claim (``loadExistingGrant``).
* The OP remembers the sign-in in its own cookies (``_session`` etc., host 127.0.0.1) in
  ``http``: ``sign_in`` drops them first unless ``reuse_session=True``, so each call really
  logs in as ``login``.
* ``GET <issuer>/session/end?id_token_hint=...&post_logout_redirect_uri=...&state=...``
  shows "Do you want to sign-out from 127.0.0.1:<port>?", an empty
  ``<form id="op.logoutForm" method="post" action="<issuer>/session/end/confirm">`` holding
  only a hidden ``xsrf`` input, and two buttons outside it that point at it with
  ``form="op.logoutForm"``: ``name="logout" value="yes"`` (sign out) and a nameless one
  (stay signed in). Without an OP session it serves an auto-submitting page whose form
  already holds ``xsrf`` and ``logout=yes``. ``confirm_logout`` POSTs the form with
  ``logout=yes``; the provider answers 303 to the post_logout_redirect_uri (with ``state``)
  or, without one, to its own ``/session/end/success`` page.
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
READY_TIMEOUT = 20.0
OP_COOKIE_PREFIXES = ("_session", "_interaction")

__all__ = [
    "OidcProvider",
    "OidcProviderError",
    "confirm_logout",
    "ensure_installed",
    "sign_in",
]


class OidcProviderError(RuntimeError):
    """The test OpenID Provider could not be installed, started or controlled."""


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise OidcProviderError(
            f"`{name}` is not on PATH: the OIDC tests need Node.js (>= 20) and npm to run "
            f"the test OpenID Provider in {OIDC_DIR}"
        )
    return path


def _installed() -> bool:
    modules = OIDC_DIR / "node_modules"
    return all((modules / name / "package.json").exists() for name in ("oidc-provider", "jose"))


def ensure_installed() -> None:
    """Run ``npm ci`` in tests/oidc unless oidc-provider is already installed there.

    Safe to call from several processes at once (pytest-xdist workers): they take an
    exclusive ``flock`` on ``tests/oidc/package-lock.json`` (an existing file, so no stray
    lock file appears in the work tree) and check again once they hold it.
    """
    _require_tool("node")
    if _installed():
        return
    npm = _require_tool("npm")
    with open(OIDC_DIR / "package-lock.json", "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _installed():
                return
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=OIDC_DIR,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if result.returncode != 0 or not _installed():
                raise OidcProviderError(
                    f"`npm ci` in {OIDC_DIR} failed (exit {result.returncode}):\n"
                    f"{result.stdout}\n{result.stderr}"
                )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class OidcProvider:
    """One test OpenID Provider process (``node tests/oidc/provider.mjs``).

    ``clients``: list of client metadata dicts (``client_id``, ``client_secret``,
    ``redirect_uris``, ``post_logout_redirect_uris``, optionally
    ``token_endpoint_auth_method``: ``client_secret_basic`` (default) or
    ``client_secret_post``; oidc-provider accepts only the registered method per client).
    ``accounts``: ``{account_id: claims}``; the account id is the login and the ``sub``.
    """

    def __init__(
        self,
        clients: list[dict],
        accounts: dict[str, dict],
        kid: str = "key-1",
        port: int = 0,
    ) -> None:
        self.clients = [dict(c) for c in clients]
        self.accounts = {k: dict(v) for k, v in accounts.items()}
        self.kid = kid
        self.port = port
        self.issuer: str | None = None
        self._proc: subprocess.Popen | None = None
        self._tmpdir: tempfile.TemporaryDirectory | None = None
        self._stderr_file = None
        self._stdout_thread: threading.Thread | None = None
        self._last_returncode: int | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> OidcProvider:
        if self._proc is not None:
            raise OidcProviderError("the OIDC provider is already running")
        node = _require_tool("node")
        if not _installed():
            raise OidcProviderError(
                f"oidc-provider is not installed in {OIDC_DIR}: call ensure_installed() first"
            )
        self._tmpdir = tempfile.TemporaryDirectory(prefix="oidc-op-")
        config_path = Path(self._tmpdir.name) / "config.json"
        config_path.write_text(
            json.dumps(
                {
                    "port": self.port,
                    "kid": self.kid,
                    "clients": self.clients,
                    "accounts": self.accounts,
                }
            )
        )
        # stderr goes to a file (never a pipe nobody reads, which could fill up and block
        # node); stdout is read by a thread until EOF.
        self._stderr_file = open(Path(self._tmpdir.name) / "stderr.log", "w+b")  # noqa: SIM115
        self._proc = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT), str(config_path)],
            cwd=OIDC_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            env={**os.environ, "NODE_ENV": "test"},
        )
        ready = threading.Event()
        found: dict[str, str] = {}

        def read_stdout(stream):
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").strip()
                if not ready.is_set() and line.startswith("READY "):
                    found["issuer"] = line.split(" ", 1)[1].strip()
                    ready.set()
            stream.close()
            ready.set()

        self._stdout_thread = threading.Thread(
            target=read_stdout, args=(self._proc.stdout,), daemon=True
        )
        self._stdout_thread.start()
        ready.wait(READY_TIMEOUT)
        if "issuer" not in found:
            try:  # stdout closed: give the exiting process a moment to be reaped
                self._proc.wait(timeout=5 if ready.is_set() else 0.1)
            except subprocess.TimeoutExpired:
                pass
            died = self._proc.poll() is not None
            self._last_returncode = self._proc.returncode
            self._terminate()
            stderr = self._read_stderr()
            self._cleanup_files()
            what = (
                f"exited with code {self._last_returncode}"
                if died
                else f"did not print READY within {READY_TIMEOUT:.0f} s"
            )
            raise OidcProviderError(f"the OIDC provider {what}; its stderr:\n{stderr}")
        self.issuer = found["issuer"]
        self.port = urlsplit(self.issuer).port
        return self

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL). Keeps ``port`` for a restart."""
        self._terminate()
        self._cleanup_files()

    def restart(self, kid: str | None = None) -> OidcProvider:
        """Stop and start again on the same port (and issuer) with a fresh key ``kid``.

        All provider state (sessions, codes, tokens) is lost and ``tamper`` is off again;
        the accounts are the latest ones given (constructor or ``set_accounts``).
        """
        port = self.port
        self.stop()
        if kid is not None:
            self.kid = kid
        self.port = port
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.start()
            except OidcProviderError as exc:
                # The old listening socket is closed, but be patient with a slow release.
                if "EADDRINUSE" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def stderr(self) -> str:
        """What the provider wrote to stderr so far (its warnings and server errors)."""
        return self._read_stderr()

    # -- test controls -----------------------------------------------------------------

    def discovery(self) -> dict:
        return self._get(".well-known/openid-configuration")

    def jwks(self) -> dict:
        return self._get("jwks")

    def set_accounts(self, accounts: dict[str, dict]) -> None:
        """Replace the whole accounts map (takes effect for the next sign-in / token).
        Kept across ``restart``."""
        self._post("__test/accounts", accounts)
        self.accounts = {k: dict(v) for k, v in accounts.items()}

    def tamper(self, mode: str | None) -> None:
        """Make the token endpoint return a broken ID token until ``tamper(None)``.

        Modes: ``iss`` (iss is http://evil.example), ``aud`` (aud is someone-else),
        ``expired`` (iat/exp about 2 hours ago), ``nonce`` (another nonce), ``signature``
        (signed by another RSA key, same kid), ``alg-none`` (alg none, no signature).
        """
        self._post("__test/tamper", {"mode": mode})

    def _url(self, path: str) -> str:
        if not self.running or not self.issuer:
            raise OidcProviderError("the OIDC provider is not running")
        return f"{self.issuer}/{path}"

    def _get(self, path: str) -> dict:
        response = requests.get(self._url(path), timeout=10)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, body) -> dict:
        response = requests.post(self._url(path), json=body, timeout=10)
        if response.status_code != 200:
            raise OidcProviderError(f"POST /{path} -> {response.status_code}: {response.text}")
        return response.json()

    # -- internals ---------------------------------------------------------------------

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._last_returncode = proc.returncode
        if self._stdout_thread is not None:
            self._stdout_thread.join(timeout=5)
            self._stdout_thread = None

    def _read_stderr(self) -> str:
        if self._stderr_file is None or self._stderr_file.closed:
            return ""
        self._stderr_file.flush()
        self._stderr_file.seek(0)
        return self._stderr_file.read().decode("utf-8", "replace")

    def _cleanup_files(self) -> None:
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None


# -- walking the provider's pages with requests ------------------------------------------


class _Forms(HTMLParser):
    """Collects forms (id, action, method, named inputs) and buttons bound to them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._current: dict | None = None
        self.buttons: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._current = {
                "id": a.get("id"),
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "fields": {},
            }
            self.forms.append(self._current)
        elif tag in ("input", "button"):
            owner = a.get("form")
            if tag == "button" or a.get("type") == "submit":
                self.buttons.append({**a, "owner": owner or (self._current or {}).get("id")})
                return
            target = self._current
            if owner:
                target = next((f for f in self.forms if f["id"] == owner), target)
            if target is not None and a.get("name"):
                target["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _forms(page: str) -> _Forms:
    parser = _Forms()
    parser.feed(page)
    return parser


def _page_text(response: requests.Response) -> str:
    text = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", response.text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return f"{response.status_code} {response.url}\n" + re.sub(r"\s+", " ", text).strip()


def _drop_op_cookies(http: requests.Session, url: str) -> None:
    host = urlsplit(url).hostname
    for cookie in list(http.cookies):
        if cookie.name.startswith(OP_COOKIE_PREFIXES) and cookie.domain.lstrip(".") in (
            host,
            f"{host}.local",
        ):
            http.cookies.clear(cookie.domain, cookie.path, cookie.name)


def _walk(http: requests.Session, response: requests.Response, stop_prefix: str, limit: int = 15):
    """Follow redirects by hand until one points at ``stop_prefix`` (returned as a URL),
    or a page is shown (returned as the response)."""
    for _ in range(limit):
        if response.is_redirect or response.status_code in (301, 302, 303, 307, 308):
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(stop_prefix):
                return location
            response = http.get(location, allow_redirects=False, timeout=10)
            continue
        return response
    raise AssertionError(f"too many redirects at the OpenID Provider, last {response.url}")


def sign_in(
    http: requests.Session,
    authorize_url: str,
    login: str,
    redirect_prefix: str,
    *,
    password: str = "ignored",
    reuse_session: bool = False,
) -> str:
    """Sign ``login`` in at the provider and return the redirect back to the relying party.

    Starts at ``authorize_url`` (the RP's authorization request), follows the provider's
    redirects, submits its login form and stops at the first redirect whose URL starts
    with ``redirect_prefix`` (not requested): that URL, with ``code``, ``state`` and
    ``iss`` (or ``error``), is returned. Raises ``AssertionError`` with the page text when
    the provider shows an error page or the login form again (unknown account).

    Unless ``reuse_session`` is true, the provider's own session cookies are dropped from
    ``http`` first, so the login form is always shown (no silent single sign-on).
    """
    if not reuse_session:
        _drop_op_cookies(http, authorize_url)
    result = _walk(http, http.get(authorize_url, allow_redirects=False, timeout=10), redirect_prefix)
    submitted = False
    for _ in range(5):
        if isinstance(result, str):
            return result
        page = result
        forms = _forms(page.text)
        login_form = next((f for f in forms.forms if "login" in f["fields"]), None)
        if page.status_code != 200 or login_form is None:
            raise AssertionError(f"the OpenID Provider did not sign in:\n{_page_text(page)}")
        if submitted:
            raise AssertionError(
                f"the OpenID Provider refused the login {login!r}:\n{_page_text(page)}"
            )
        data = dict(login_form["fields"], login=login, password=password)
        action = urljoin(page.url, login_form["action"] or page.url)
        result = _walk(
            http, http.post(action, data=data, allow_redirects=False, timeout=10), redirect_prefix
        )
        submitted = True
    raise AssertionError("the OpenID Provider kept showing pages")


def confirm_logout(http: requests.Session, end_session_url: str) -> str:
    """Open the provider's end-session URL, confirm "Yes, sign me out" and return where the
    provider redirects next (the post_logout_redirect_uri, with ``state`` if one was given,
    or the provider's own success page), without following it."""
    page = http.get(end_session_url, allow_redirects=False, timeout=10)
    if page.is_redirect:
        return urljoin(page.url, page.headers["Location"])
    forms = _forms(page.text)
    form = next((f for f in forms.forms if "xsrf" in f["fields"]), None)
    if page.status_code != 200 or form is None:
        raise AssertionError(f"the OpenID Provider showed no logout form:\n{_page_text(page)}")
    data = dict(form["fields"], logout="yes")
    action = urljoin(page.url, form["action"] or page.url)
    response = http.post(action, data=data, allow_redirects=False, timeout=10)
    if not response.is_redirect:
        raise AssertionError(f"the OpenID Provider did not log out:\n{_page_text(response)}")
    return urljoin(response.url, response.headers["Location"])


if __name__ == "__main__":  # pragma: no cover - manual smoke run
    ensure_installed()
    with OidcProvider(clients=[], accounts={}) as op:
        print(op.issuer)
        print(json.dumps(op.discovery(), indent=2))
    sys.exit(0)
