"""The authorisation matrix: every route × every role, checked against the permission table.

A page that declares what it requires (``forum.auth.decorators.requires``: the view's
``required_action``) is allowed to the roles forum.core.policy.POLICY gives that action; every
other route, and every route whose rule is about a particular record (only the filer edits an
item, only the author edits a comment), is decided in EXPLICIT below. A route in neither fails the
test, so a new route cannot ship without a decision on who may use it. "Allowed" means the
request gets past the permission checks (any status except a login redirect, 401, 403 or 404);
"denied" means a login redirect for anonymous users and 403 (or 404 where existence is not
disclosed) for logged-in users. No request may end in a 500.

The JSON API (/api/v1/…) is authenticated by bearer tokens only: a browser session does not
open it, so every role — logged in or not — is denied there with 401 (tests/api/ checks what
each role's tokens may do). Its OpenAPI document and the API reference page are public.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.routing import AnyConverter

from forum.api import service as api_service
from forum.core.policy import POLICY, Action, allows
from forum.core.policy import ROLES as ACCOUNT_ROLES
from tests.conftest import PASSWORD
from tests.security.conftest import ROLES

#: The cast's names (tests/security/conftest.py) and the role of each account.
ROLE_OF = {
    "procurement": "staff", "product": "staff", "risk": "staff",
    "executive": "executive", "auditor": "auditor", "admin": "admin",
}


def allowed_by_policy(action: Action) -> set[str]:
    """The cast members whose role the permission table allows ``action``."""
    return {name for name, role in ROLE_OF.items() if role in POLICY[action]}


PUBLIC = set(ROLES)
LOGGED_IN = set(ROLES) - {"anonymous"}
TOKEN_ONLY: set[str] = set()  # the JSON API: bearer tokens only, every session is denied (401)

# endpoint -> roles allowed, for routes that declare no action. For item routes the sample item
# was filed by the procurement user.
EXPLICIT: dict[str, set[str]] = {
    "static": PUBLIC,
    "core.health": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": LOGGED_IN,
    "core.home": LOGGED_IN,
    "health.index": LOGGED_IN,
    # The load benchmark's baseline page: a 404 unless FORUM_BENCH_BASELINE is set (it is not here).
    "core.bench_baseline": set(),
    "forum.item_list": LOGGED_IN,
    "items.detail": LOGGED_IN,
    "evidence.index": LOGGED_IN,
    "evidence.detail": LOGGED_IN,
    "evidence.download": LOGGED_IN,
    "evidence.compare": LOGGED_IN,
    "proximity.export": LOGGED_IN,
    "health.proximity_figures": LOGGED_IN,
    "forum.queue": LOGGED_IN,
    "auth.set_password": PUBLIC,  # the one-time token is the credential
    "auth.settings": LOGGED_IN,
    "auth.update_profile": LOGGED_IN,
    "auth.change_password": LOGGED_IN,
    "auth.update_notifications": LOGGED_IN,
    "auth.end_other_sessions": LOGGED_IN,
    # Single sign-on: a 404 unless an identity provider is configured (it is not here);
    # tests/auth/test_oidc.py checks them against a real provider, for visitors and users.
    "auth.oidc_start": set(),
    "auth.oidc_callback": set(),
    # API area: pages, and the token-only JSON API (TOKEN_ONLY: no session role gets in).
    "api_docs.index": PUBLIC,
    "tokens.index": LOGGED_IN,
    "tokens.create": LOGGED_IN,
    "tokens.revoke": {"procurement"},  # the sample token's owner; others get 404
    "api.openapi": PUBLIC,
    "api.list_items": TOKEN_ONLY,
    "api.create_item": TOKEN_ONLY,
    "api.get_item": TOKEN_ONLY,
    "api.update_item": TOKEN_ONLY,
    "api.attach_evidence": TOKEN_ONLY,
    "api.get_evidence": TOKEN_ONLY,
    "api.get_evidence_file": TOKEN_ONLY,
    "api.list_events": TOKEN_ONLY,
    "api.list_meetings": TOKEN_ONLY,
    "api.list_systems": TOKEN_ONLY,
    "api.create_system": TOKEN_ONLY,
    "api.get_system": TOKEN_ONLY,
    "api.update_system": TOKEN_ONLY,
    "api.get_meeting": TOKEN_ONLY,
    # The agenda: everyone logged in reads meetings, packs, minutes, the register and actions.
    # The sample action is owned by the risk user: its owner or an executive marks it done.
    "agenda.meetings": LOGGED_IN,
    "agenda.meeting": LOGGED_IN,
    "agenda.pack": LOGGED_IN,
    "agenda.decisions": LOGGED_IN,
    "agenda.actions": LOGGED_IN,
    "agenda.complete_action": {"risk", "executive"},
    # Search: everyone logged in; the results are filtered like the pages they link to.
    "search.index": LOGGED_IN,
    # Notifications: everyone logged in has an inbox, follows items they can see and chooses
    # what comes by e-mail. The sample notification is the risk user's (someone else's is 404).
    "notify.inbox": LOGGED_IN,
    "notify.mark_read": {"risk"},
    "notify.mark_all_read": LOGGED_IN,
    "notify.mark_subject_read": LOGGED_IN,  # only the caller's own notifications change
    "notify.follow": LOGGED_IN,
    "notify.unfollow": LOGGED_IN,
    "notify.update_email_kinds": LOGGED_IN,
}

# Record-specific rules on top of a page's action: they narrow what the table allows, never widen it.
RECORD_RULES: dict[str, set[str]] = {
    "items.edit": {"procurement"},  # the sample item's filer
    "forum.edit_comment": {"procurement"},  # the sample comment's author
    "probes.save_probe": {"procurement"},  # the sample probe's runner
}


def required_action(app, endpoint: str) -> Action | None:
    return getattr(app.view_functions[endpoint], "required_action", None)


def access_table(app) -> dict[str, set[str]]:
    """endpoint -> roles allowed: from the view's action and POLICY, or from EXPLICIT; a record
    rule narrows the former."""
    table = dict(EXPLICIT)
    for endpoint in app.view_functions:
        action = required_action(app, endpoint)
        if action is not None:
            table[endpoint] = RECORD_RULES.get(endpoint, allowed_by_policy(action))
    return table


# Routes whose anonymous use is harmless although they are not public pages.
ANONYMOUS_REDIRECT_OK = {"auth.logout"}
#: Routes served only when a setting turns them on (off here): a 404 for everyone, visitors too.
UNSERVED = {"auth.oidc_start", "auth.oidc_callback"}


def url_for_rule(app, rule, samples) -> str:
    values = {arg: samples[arg] for arg in rule.arguments if arg in samples}
    for arg, converter in rule._converters.items():  # a <any(a, b):fmt> takes one of its own values
        if isinstance(converter, AnyConverter) and values.get(arg) not in converter.items:
            values[arg] = sorted(converter.items)[0]
    if rule.endpoint == "static":
        values["filename"] = "forum.css"
    missing = set(rule.arguments) - set(values)
    assert not missing, f"no sample value for {missing} in {rule.rule}; add one to tests/security/conftest.py"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def rules_under_test(app):
    return sorted(
        (rule for rule in app.url_map.iter_rules()),
        key=lambda r: (r.endpoint, r.rule),
    )


def test_every_route_is_in_the_table(app):
    missing = sorted({rule.endpoint for rule in rules_under_test(app)} - set(access_table(app)))
    assert not missing, f"routes without an access decision: {missing} — declare an action or add them to EXPLICIT"


def test_the_table_names_no_route_that_does_not_exist(app):
    stale = sorted((set(EXPLICIT) | set(RECORD_RULES)) - {rule.endpoint for rule in rules_under_test(app)})
    assert not stale, f"EXPLICIT or RECORD_RULES name routes that do not exist: {stale}"


def test_a_route_that_declares_an_action_is_decided_by_the_table(app):
    both = sorted(e for e in EXPLICIT if e in app.view_functions and required_action(app, e) is not None)
    assert not both, f"{both} declare an action: their roles come from POLICY (a record rule goes in RECORD_RULES)"
    for endpoint, roles in RECORD_RULES.items():
        action = required_action(app, endpoint)
        assert action is not None, f"{endpoint} has a record rule but declares no action"
        assert roles <= allowed_by_policy(action), f"the record rule of {endpoint} widens {action}"


def test_every_action_of_the_table_is_used(app):
    """Each action gates at least one page, API scope or service check: none is dead weight."""
    used = {required_action(app, e) for e in app.view_functions} | set(api_service.SCOPE_ACTIONS.values())
    package = Path(api_service.__file__).resolve().parent.parent
    for path in package.rglob("*.py"):
        if path.name != "policy.py" or path.parent.name != "core":
            used |= {Action[name] for name in re.findall(r"\bAction\.([A-Z_]+)\b", path.read_text(encoding="utf-8"))
                     if name in Action.__members__}
    unused = sorted(set(Action) - used)
    assert not unused, f"actions no page, scope or service checks: {unused}"


def test_the_api_scopes_read_the_table():
    assert set(api_service.SCOPE_ACTIONS) == set(api_service.SCOPES)
    for scope, action in api_service.SCOPE_ACTIONS.items():
        for role in ACCOUNT_ROLES:
            user = SimpleNamespace(role=role, active=True)
            assert api_service.role_allows(user, scope) == (role in POLICY[action]), (scope, role)
            assert not api_service.role_allows(SimpleNamespace(role=role, active=False), scope)
    assert not api_service.role_allows(SimpleNamespace(role="executive", active=True), "no:such-scope")


def test_the_table_knows_every_role_and_refuses_the_inactive():
    for action, roles in POLICY.items():
        assert roles <= set(ACCOUNT_ROLES), action
        for role in roles:
            assert allows(SimpleNamespace(role=role, active=True), action)
            assert not allows(SimpleNamespace(role=role, active=False), action)
        assert not allows(None, action)
    assert set(POLICY) == set(Action)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_table_allows(app, cast, samples, role):
    access = access_table(app)
    failures = []
    for rule in rules_under_test(app):
        if rule.endpoint not in access:
            continue  # reported by test_every_route_is_in_the_table
        url = url_for_rule(app, rule, samples)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            client = app.test_client()
            if role != "anonymous":
                login = client.post("/login", data={"email": cast[role].email, "password": PASSWORD})
                assert login.status_code == 302, f"{role} could not log in"
            response = client.open(url, method=method, data={})
            status = response.status_code
            location = response.headers.get("Location", "")
            response.close()
            if status >= 500:
                failures.append(f"{method} {url} as {role}: {status}")
                continue
            to_login = status in (301, 302, 303) and location.startswith("/login")
            api_refused = url.startswith("/api/v1/") and status == 401
            denied = to_login or api_refused or status in (403, 404)
            allowed = role in access[rule.endpoint]
            if allowed and denied and rule.endpoint not in ANONYMOUS_REDIRECT_OK:
                failures.append(f"{method} {url} as {role}: expected access, got {status} {location}")
            if not allowed and not denied:
                if role == "anonymous" and rule.endpoint in ANONYMOUS_REDIRECT_OK:
                    continue
                failures.append(f"{method} {url} as {role}: expected denial, got {status} {location}")
            if not allowed and role == "anonymous" and status in (403, 404) and rule.endpoint not in UNSERVED:
                failures.append(f"{method} {url} as anonymous: expected a login redirect, got {status}")
            if access[rule.endpoint] is TOKEN_ONLY and not api_refused:
                failures.append(f"{method} {url} as {role}: the API must answer 401 without a token, got {status}")
    assert not failures, "\n".join(failures)
