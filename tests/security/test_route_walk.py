"""No input gives a 500: every route in the URL map, walked with hostile values in every path
variable, every query parameter and every form field the pages offer, as each kind of user.

Hostile values are those a careless client or an attacker sends: numbers beyond 64 bits, signs,
exponents, NaN, hexadecimal, padded digits, dates outside what the database stores, NUL. Each
request must answer below 500 (a 400, 404, 409 … with a message); the test lists every one that
does not. It runs on SQLite and, in CI's second pass, on PostgreSQL (whose driver refuses
integers beyond 64 bits and dates beyond year 9999 where SQLite stores them).

How the fields are found: every page the role can GET (with the sample ids of
tests/security/conftest.py) is read for its forms; each form is sent back once per field and
hostile value, the other fields keeping the values the page gave them (so that the hostile value
is what the server has to deal with). GET forms (filters, search) become query strings; every
GET page also gets hostile ``page``, ``before`` and ``after``. The JSON API's query parameters
come from its OpenAPI document. Routes that would end the session or lock the cast out
(logging out, deactivating accounts, revoking the cast's token) are sent path and query values
only.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from flask import got_request_exception

from tests.conftest import PASSWORD
from tests.security.conftest import ROLES
from tests.security.test_authorization import rules_under_test, url_for_rule

NUMBERS = ["99999999999999999999", "9223372036854775808", "-1", "1e5", "1.5", "NaN", "Infinity", "0x10",
           " 5 ", "1" + "0" * 30]
DATES = ["9999-12-31", "0000-00-00", "10000-01-01", "2026-02-30"]
HOSTILE = NUMBERS + DATES + ["", "x" * 3000]
PATH_VALUES = ["99999999999999999999", "9223372036854775808", "2147483648", "0", "%00", "x" * 300]
PAGING = ["page", "before", "after", "cursor", "limit"]
#: Forms whose valid submission would end the walking user's session or lock the cast out.
NOT_SUBMITTED = re.compile(r"/logout$|/admin/users/\d+/(deactivate|status|role)|/settings/(password|sessions)|"
                           r"/tokens/\d+/revoke|/logout-everywhere")
WALKED_ROLES = [r for r in ROLES if r in ("anonymous", "procurement", "executive", "auditor", "admin")]


class Forms(HTMLParser):
    """The forms of a page: (method, action, {name: value}) with each field's value as given."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self._current: tuple[str, str, dict[str, str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = ((a.get("method") or "get").lower(), a.get("action") or "", {})
            self.forms.append(self._current)
        elif self._current is None:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "file", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                self._current[2].setdefault(a["name"], "")
            else:
                self._current[2][a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._current[2].setdefault(self._select, "")
        elif tag == "option" and self._select and not self._current[2].get(self._select):
            self._current[2][self._select] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._current[2][a["name"]] = ""

    def handle_data(self, data):
        if self._textarea and self._current is not None:
            self._current[2][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[tuple[str, str, dict[str, str]]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def logged_in_client(app, cast, role):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a server error is an answer (500) to count, not a raise
    client = app.test_client()
    if role != "anonymous":
        assert client.post("/login", data={"email": cast[role].email, "password": PASSWORD}).status_code == 302
    return client


def hostile_paths(app, rule, samples) -> list[str]:
    """The rule's URL with each path variable in turn replaced by each hostile value."""
    urls = []
    for arg in rule.arguments:
        for value in PATH_VALUES:
            url = url_for_rule(app, rule, samples)
            # Swap the sample value for the hostile one in the built URL, segment by segment.
            sample = str(samples.get(arg, "forum.css"))
            parts = url.split("/")
            if sample in parts:
                parts[parts.index(sample)] = value
                urls.append("/".join(parts))
    return urls


def raised(app) -> list[BaseException]:
    """The exceptions the app raises while handling requests (a 500 names its cause in the report)."""
    found: list[BaseException] = []
    got_request_exception.connect(lambda _sender, exception, **_kw: found.append(exception), app, weak=False)
    return found


@pytest.mark.parametrize("role", WALKED_ROLES)
def test_no_hostile_input_gives_a_server_error(app, cast, samples, role):
    client = logged_in_client(app, cast, role)
    failures: list[str] = []
    errors = raised(app)
    sent = 0

    def check(method: str, url: str, data=None):
        nonlocal sent
        sent += 1
        response = client.open(url, method=method, data=data)
        status = response.status_code
        response.close()
        if status >= 500:
            cause = f"{type(errors[-1]).__name__}: {str(errors[-1])[:100]}" if errors else ""
            failures.append(f"{method} {url} {data or ''}: {status} {cause}")
        return response

    forms: dict[tuple[str, str], dict[str, str]] = {}
    for rule in rules_under_test(app):
        if rule.endpoint == "static":
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        url = url_for_rule(app, rule, samples)
        for method in methods:
            for hostile_url in hostile_paths(app, rule, samples):
                if not NOT_SUBMITTED.search(url):
                    check(method, hostile_url, {} if method != "GET" else None)
        if "GET" in methods and not url.startswith("/api/"):
            page = client.get(url)
            html = page.get_data(as_text=True) if page.status_code == 200 and page.mimetype == "text/html" else ""
            page.close()
            for name in PAGING:
                for value in NUMBERS[:6] + ["9999-12-31"]:
                    check("GET", f"{url}?{urlencode({name: value})}")
            for method, action, fields in forms_of(html):
                target = urlsplit(action).path or url
                forms.setdefault((method, target), fields)
    # Every form found, once per field and hostile value, the other fields as the page gave them.
    for (method, target), fields in sorted(forms.items()):
        if NOT_SUBMITTED.search(target) or not target.startswith("/"):
            continue
        for name in fields:
            if name == "csrf_token":
                continue
            for value in HOSTILE:
                data = {**fields, name: value}
                if method == "get":
                    check("GET", f"{target}?{urlencode(data)}")
                else:
                    check("POST", target, data)
    assert sent > 500, f"only {sent} requests: the walk found too little to be a walk"
    assert not failures, f"{len(failures)} of {sent} requests as {role} gave a server error:\n" + "\n".join(failures)


def test_the_api_answers_hostile_parameters_with_problems_not_errors(app, cast, samples, make_user, db_session):
    """The JSON API: every path id, and every query parameter its OpenAPI document lists, with
    each hostile value, as the executive's token."""
    from forum.api import service as api_service

    _token, secret = api_service.create_token(
        db_session, cast["executive"], cast["executive"],
        api_service.NewToken("walk", api_service.grantable_scopes(cast["executive"])))
    db_session.commit()
    client = logged_in_client(app, cast, "anonymous")
    headers = {"Authorization": f"Bearer {secret}"}
    spec = client.get("/api/v1/openapi.json").get_json()
    failures, sent = [], 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            template = "/api/v1" + path if not path.startswith("/api/") else path
            ids = re.findall(r"\{(\w+)\}", template)
            base = template
            for name in ids:
                base = base.replace("{" + name + "}", str(samples.get("evidence_id" if "evidence" in template and
                                                                       name == "id" else "item_id", 1)))
            urls = [base]
            for name in ids:
                for value in PATH_VALUES:
                    urls.append(template.replace("{" + name + "}", value).replace("{", "").replace("}", ""))
            params = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
            for url in urls:
                for name in params or [None]:
                    for value in (NUMBERS + DATES if name else [None]):
                        full = f"{url}?{urlencode({name: value})}" if name else url
                        sent += 1
                        response = client.open(full, method=method.upper(), headers=headers,
                                               json={} if method in ("post", "patch", "put") else None)
                        if response.status_code >= 500:
                            failures.append(f"{method.upper()} {full}: {response.status_code}")
                        response.close()
    assert sent > 100
    assert not failures, f"{len(failures)} of {sent} API requests gave a server error:\n" + "\n".join(failures)
