"""Settings from FORUM_* environment variables, with embedded defaults.

Every setting can be given three ways, strongest first: the ``config`` mapping passed to
``create_app`` (tests), a ``FORUM_<NAME>`` environment variable, or the default below.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

DEFAULTS: dict[str, object] = {
    # SQLAlchemy URL; empty means SQLite in the instance folder.
    "DATABASE_URL": "",
    # Flask's secret key; empty means: generate one once and keep it in the instance folder.
    "SECRET_KEY": "",
    # The instance folder: the default SQLite database and the generated secret key. Empty means
    # instance/ in the current working directory of the process (never inside the installed package).
    "INSTANCE_PATH": "",
    "ITEMS_PER_PAGE": 20,
    # Counts and id lists of the escalation queue, the item list and the home pages kept per worker
    # until the decision trail moves (forum.core.derived); 0 turns that off.
    "DERIVED_CACHE_SIZE": 256,
    # Search ranks at most this many hits of each kind (item, comment, decision, evidence run):
    # the newest; a word found more often is counted as "more than" this (forum/search).
    "SEARCH_HITS_PER_KIND": 1000,
    # Page size of the administrators' user list.
    "USERS_PER_PAGE": 25,
    # How long a one-time set-password link (made for a new account, or on request) stays valid.
    "SET_PASSWORD_TTL_HOURS": 72,
    "SESSION_COOKIE_SECURE": False,
    # Hands-on probes (forum/probes): the hosts model endpoints may live on, comma-separated
    # host names or host:port (empty: no endpoint can be added or called), and how much of an
    # answer is read before it is refused.
    "PROBE_HOSTS": "",
    "PROBE_MAX_ANSWER_BYTES": 256 * 1024,
    # Markdown summaries and comments longer than this are refused.
    "MAX_MARKDOWN_LENGTH": 20_000,
    # Request bodies larger than this are refused with 413 (the evidence upload route allows
    # EVIDENCE_MAX_BYTES plus a little room for the form fields instead).
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # Evidence result files larger than this are refused with 413, before the body is read.
    "EVIDENCE_MAX_BYTES": 20 * 1024 * 1024,
    # What an inspect_ai .eval archive may unpack to (its members are decompressed under this cap).
    "EVIDENCE_MAX_UNPACKED_BYTES": 200 * 1024 * 1024,
    # The forum area: functions whose position every item needs (comma-separated keys), and the
    # financial exposure above which escalation is recommended.
    "REQUIRED_FUNCTIONS": "procurement,product,risk",
    "ESCALATION_EXPOSURE_THRESHOLD": 250_000,
    # Rate limits of the JSON API (Flask-Limiter notation, e.g. "600 per minute"). The storage is
    # in-process memory by default; a Redis URL (redis://host:6379) lets instances share counts.
    "RATELIMIT_STORAGE_URI": "memory://",
    # Calls per API token.
    "RATELIMIT_API": "600 per minute",
    # Failed API authentications (401) per client IP address; past it the IP gets 429.
    "RATELIMIT_AUTH_FAILURES": "20 per minute",
    # Failed log-ins on the login page per client address; past it the address gets 429.
    "RATELIMIT_LOGIN_FAILURES": "10 per minute",
    # How many reverse proxies stand in front of the app: their X-Forwarded-For, -Proto, -Host and
    # -Prefix headers are trusted that many hops deep (Werkzeug's ProxyFix). 0: none are trusted.
    "PROXY_COUNT": 0,
    # Serve /bench/baseline, the load benchmark's minimal page (bench/load.py); off: it is a 404.
    "BENCH_BASELINE": False,
    # Notifications by e-mail: empty means in-app only. smtp://[user:password@]host[:port], with
    # ?starttls=true to upgrade the connection, or smtps:// for TLS from the start.
    "SMTP_URL": "",
    "MAIL_FROM": "Decision Forum <forum@localhost>",
    # Where people reach the forum (scheme, host, port and any path prefix): every absolute link
    # it hands out — e-mails, the API's url fields, the OpenAPI servers entry, one-time
    # set-password links — is built from this, never from the request's Host header.
    "BASE_URL": "http://127.0.0.1:5000",
    # The host names the forum answers to (comma-separated; ".example.org" admits its
    # subdomains); any other Host header gets 400. Empty: BASE_URL's host plus localhost and
    # 127.0.0.1. "*": any host (only behind a proxy that checks it).
    "TRUSTED_HOSTS": "",
    # Try to send new e-mail right after the change commits (in a background thread); the
    # `forum notify send` command (cron) sends what is due and retries failures either way.
    "MAIL_SEND_AFTER_COMMIT": True,
    # Reminders (`forum reminders run`): actions due within this many days, and positions still
    # missing this many days before a meeting.
    "REMINDER_DUE_SOON_DAYS": 2,
    "REMINDER_POSITIONS_DAYS": 3,
    # Page size of the inbox.
    "INBOX_PER_PAGE": 20,
    # The Ed25519 public key (PEM or base64) that signed trail checkpoints must verify with, or a
    # file holding it (docs/operations.md). The signing key is never a setting of the web app:
    # only `forum trail checkpoint` reads it, from FORUM_TRAIL_SIGNING_KEY(_FILE).
    "TRAIL_PUBLIC_KEY": "",
    "TRAIL_PUBLIC_KEY_FILE": "",
    # Single sign-on with the organisation's OpenID Connect provider (docs/operations.md): set the
    # issuer, client id and secret (or a file holding the secret) and the login page offers
    # "Sign in with <OIDC_NAME>". Empty issuer: local passwords only.
    "OIDC_ISSUER": "",
    "OIDC_CLIENT_ID": "",
    "OIDC_CLIENT_SECRET": "",
    "OIDC_CLIENT_SECRET_FILE": "",
    "OIDC_NAME": "your organisation's account",
    "OIDC_SCOPES": "openid email profile",
    # The claim that lists a person's groups (or app roles), and the claims of their e-mail
    # address and name (Entra ID without an e-mail claim: preferred_username).
    "OIDC_GROUPS_CLAIM": "groups",
    "OIDC_EMAIL_CLAIM": "email",
    "OIDC_NAME_CLAIM": "name",
    # Group -> forum role and group -> function: "group=role, group=role" (or a JSON object for
    # group names with commas); the first listed group a person is in decides. Re-applied at
    # every sign-in.
    "OIDC_ROLES": "",
    "OIDC_FUNCTIONS": "",
    # Clock difference allowed when checking an ID token's exp and iat, and how long a call to
    # the provider may take.
    "OIDC_LEEWAY_SECONDS": 60,
    "OIDC_TIMEOUT_SECONDS": 10,
    # A login through the provider lasts at most this long; then the person signs in again, and
    # their groups are read again (someone who left is out within this time).
    "OIDC_SESSION_HOURS": 12,
    # Local passwords: off (false) leaves them only to the administrators named in
    # BREAK_GLASS_ADMINS (comma-separated e-mail addresses), for when the provider is down.
    "LOCAL_LOGIN": True,
    "BREAK_GLASS_ADMINS": "",
}

_BOOL_TRUE = {"1", "true", "yes", "on"}


class SettingsError(RuntimeError):
    """A setting the forum cannot start with; the message says what to change."""


def _coerce(default: object, raw: str) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in _BOOL_TRUE
    if isinstance(default, int):
        return int(raw)
    return raw


def load_settings(overrides: dict | None = None, environ: dict | None = None) -> dict:
    """Return the effective settings: defaults, then FORUM_* variables, then ``overrides``."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        raw = environ.get(f"FORUM_{name}")
        if raw not in (None, ""):
            try:
                settings[name] = _coerce(default, raw)
            except ValueError as exc:
                raise SettingsError(f"FORUM_{name}={raw!r} is not a valid value: {exc}") from exc
    settings.update(overrides or {})
    if not settings["INSTANCE_PATH"]:
        settings["INSTANCE_PATH"] = str(Path.cwd() / "instance")
    instance = Path(str(settings["INSTANCE_PATH"]))
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'forum.db'}"
    check_drivers(settings)
    if int(settings["SEARCH_HITS_PER_KIND"]) < 1:
        raise SettingsError(f"FORUM_SEARCH_HITS_PER_KIND={settings['SEARCH_HITS_PER_KIND']!r}: a search needs to "
                            "rank at least one hit of each kind; give a positive number (the default is 1000).")
    settings["BASE_URL"] = clean_base_url(str(settings["BASE_URL"]))
    check_sign_in(settings)
    return settings


def clean_base_url(raw: str) -> str:
    """BASE_URL without its trailing slash; SettingsError unless it is http(s)://host[:port][/path]."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(
            f"FORUM_BASE_URL={raw!r} is not the forum's address: give scheme, host and any path "
            "prefix, e.g. https://forum.example.org or https://intranet.example.org/forum.")
    try:
        _ = parts.port  # a port that is not a number raises here
    except ValueError as exc:
        raise SettingsError(f"FORUM_BASE_URL={raw!r} has a port that is not a number.") from exc
    return raw.strip().rstrip("/")


def check_sign_in(settings: dict) -> None:
    """SettingsError unless the single sign-on settings make sense together (the group mappings
    are read by forum.auth.oidc, which reports their own mistakes)."""
    issuer = str(settings["OIDC_ISSUER"]).strip()
    secret_file = str(settings["OIDC_CLIENT_SECRET_FILE"]).strip()
    if secret_file and not settings["OIDC_CLIENT_SECRET"]:
        try:
            settings["OIDC_CLIENT_SECRET"] = Path(secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"FORUM_OIDC_CLIENT_SECRET_FILE={secret_file!r} cannot be read: {exc.strerror}.") from exc
    if issuer:
        parts = urlsplit(issuer)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise SettingsError(f"FORUM_OIDC_ISSUER={issuer!r} is not an issuer URL, e.g. "
                                "https://login.microsoftonline.com/<tenant id>/v2.0.")
        missing = [f"FORUM_{name}" for name in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET") if not settings[name]]
        if missing:
            raise SettingsError(f"FORUM_OIDC_ISSUER is set but {' and '.join(missing)} is not: the provider "
                                "gives both when the forum is registered as a client.")
        if "openid" not in str(settings["OIDC_SCOPES"]).split():
            raise SettingsError(f"FORUM_OIDC_SCOPES={settings['OIDC_SCOPES']!r} must include openid.")
    elif not settings["LOCAL_LOGIN"]:
        raise SettingsError("FORUM_LOCAL_LOGIN=false needs single sign-on (FORUM_OIDC_ISSUER): "
                            "nobody could log in otherwise.")


def trusted_hosts(settings: dict) -> list[str] | None:
    """Flask's TRUSTED_HOSTS from the settings: None (any host) for "*"."""
    raw = str(settings["TRUSTED_HOSTS"]).strip()
    if raw == "*":
        return None
    if raw:
        return [host.strip().lower() for host in raw.split(",") if host.strip()]
    return sorted({urlsplit(str(settings["BASE_URL"])).hostname or "", "localhost", "127.0.0.1"} - {""})


def check_drivers(settings: dict) -> None:
    """Refuse settings that need an optional driver which is not installed, naming the extra that
    installs it (instead of an import error deep inside SQLAlchemy or Flask-Limiter)."""
    scheme = str(settings["DATABASE_URL"]).partition(":")[0]
    if scheme in ("postgresql", "postgresql+psycopg") and not _installed("psycopg"):
        raise SettingsError(
            "FORUM_DATABASE_URL names a PostgreSQL database, but its driver (psycopg) is not "
            "installed. Install it with: pip install 'decision-forum[postgresql]'"
        )
    storage = str(settings["RATELIMIT_STORAGE_URI"]).partition(":")[0]
    if storage.startswith("redis") and not _installed("redis"):
        raise SettingsError(
            "FORUM_RATELIMIT_STORAGE_URI names a Redis server, but the redis client is not "
            "installed. Install it with: pip install 'decision-forum[redis]'"
        )


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def instance_secret_key(instance_path: str | Path) -> str:
    """The secret key kept in the instance folder, created on first use (readable by owner only)."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
