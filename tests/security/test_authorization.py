"""The authorisation matrix: every route × every role, checked against one table.

A route that is not in ACCESS fails the test, so a new route cannot ship without a decision on
who may use it. "Allowed" means the request gets past the permission checks (any status except
a login redirect, 401, 403 or 404); "denied" means a login redirect for anonymous users and 403
(or 404 where existence is not disclosed) for logged-in users. No request may end in a 500.

The JSON API (/api/v1/…) is authenticated by bearer tokens only: a browser session does not
open it, so every role — logged in or not — is denied there with 401 (tests/api/ checks what
each role's tokens may do). Its OpenAPI document and the API reference page are public.
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.security.conftest import ROLES

PUBLIC = set(ROLES)
LOGGED_IN = set(ROLES) - {"anonymous"}
STAFF = {"procurement", "product", "risk"}
FILERS = STAFF | {"executive"}
TRAIL_READERS = {"executive", "auditor"}
ADMINS = {"admin"}
TOKEN_ONLY: set[str] = set()  # the JSON API: bearer tokens only, every session is denied (401)
EXECUTIVES = {"executive"}

# endpoint -> roles allowed. For item routes the sample item was filed by the procurement user.
ACCESS: dict[str, set[str]] = {
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
    "items.new": FILERS,
    "items.edit": {"procurement"},
    "items.change_status": FILERS,
    "items.update_model": FILERS,  # the sample item is open: 409 for them (a model update needs escalation)
    "evidence.index": LOGGED_IN,
    "evidence.detail": LOGGED_IN,
    "evidence.download": LOGGED_IN,
    "evidence.compare": LOGGED_IN,
    "evidence.upload": FILERS,
    "proximity.review": EXECUTIVES,  # an executive's own review of a run's failing cases
    "proximity.propose": FILERS,
    "proximity.export": LOGGED_IN,
    "health.proximity_figures": LOGGED_IN,
    "forum.rate": FILERS,  # members of a function: every staff user and the cast's executive
    "forum.take_position": FILERS,
    "forum.comment": FILERS,
    "forum.edit_comment": {"procurement"},  # the comment's author
    "forum.escalate": FILERS,
    "forum.queue": LOGGED_IN,
    "audit.item_timeline": TRAIL_READERS,
    "audit.trail": TRAIL_READERS,
    "audit.event": TRAIL_READERS,
    "audit.export": TRAIL_READERS,
    "audit.verification": TRAIL_READERS,
    "audit.verify": TRAIL_READERS,
    "audit.record_checkpoint": {"auditor"},
    "auth.set_password": PUBLIC,  # the one-time token is the credential
    "auth.settings": LOGGED_IN,
    "auth.update_profile": LOGGED_IN,
    "auth.change_password": LOGGED_IN,
    "auth.update_notifications": LOGGED_IN,
    "admin.index": ADMINS,
    "admin.users": ADMINS,
    "admin.new_user": ADMINS,
    "admin.user": ADMINS,
    "admin.update_access": ADMINS,
    "admin.deactivate": ADMINS,
    "admin.reactivate": ADMINS,
    "admin.issue_link": ADMINS,
    "admin.functions": ADMINS,
    "admin.function": ADMINS,
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
    "api.get_meeting": TOKEN_ONLY,
    # The agenda: everyone logged in reads meetings, packs, minutes, the register and actions;
    # executives manage. The sample action is owned by the risk user.
    "agenda.meetings": LOGGED_IN,
    "agenda.meeting": LOGGED_IN,
    "agenda.pack": LOGGED_IN,
    "agenda.decisions": LOGGED_IN,
    "agenda.actions": LOGGED_IN,
    "agenda.new_meeting": EXECUTIVES,
    "agenda.edit_meeting": EXECUTIVES,
    "agenda.change_status": EXECUTIVES,
    "agenda.add_entry": EXECUTIVES,
    "agenda.update_entry": EXECUTIVES,
    "agenda.move_entry": EXECUTIVES,
    "agenda.remove_entry": EXECUTIVES,
    "agenda.declare_conflict": EXECUTIVES,
    "agenda.decide": EXECUTIVES,
    "agenda.amend": EXECUTIVES,
    "agenda.close_item": EXECUTIVES,
    "agenda.complete_action": {"risk", "executive"},
    # Search: everyone logged in; the results are filtered like the pages they link to.
    "search.index": LOGGED_IN,
    # Notifications: everyone logged in has an inbox, follows items they can see and chooses
    # what comes by e-mail. The sample notification is the risk user's (someone else's is 404).
    "notify.inbox": LOGGED_IN,
    "notify.mark_read": {"risk"},
    "notify.mark_all_read": LOGGED_IN,
    "notify.follow": LOGGED_IN,
    "notify.unfollow": LOGGED_IN,
    "notify.update_email_kinds": LOGGED_IN,
}

# Routes whose anonymous use is harmless although they are not public pages.
ANONYMOUS_REDIRECT_OK = {"auth.logout"}


def url_for_rule(app, rule, samples) -> str:
    values = {arg: samples[arg] for arg in rule.arguments if arg in samples}
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
    missing = sorted({rule.endpoint for rule in rules_under_test(app)} - set(ACCESS))
    assert not missing, f"routes without an access decision: {missing} — add them to ACCESS"


def test_the_table_names_no_route_that_does_not_exist(app):
    stale = sorted(set(ACCESS) - {rule.endpoint for rule in rules_under_test(app)})
    assert not stale, f"ACCESS names routes that do not exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_the_table_allows(app, cast, samples, role):
    failures = []
    for rule in rules_under_test(app):
        if rule.endpoint not in ACCESS:
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
            allowed = role in ACCESS[rule.endpoint]
            if allowed and denied and rule.endpoint not in ANONYMOUS_REDIRECT_OK:
                failures.append(f"{method} {url} as {role}: expected access, got {status} {location}")
            if not allowed and not denied:
                if role == "anonymous" and rule.endpoint in ANONYMOUS_REDIRECT_OK:
                    continue
                failures.append(f"{method} {url} as {role}: expected denial, got {status} {location}")
            if not allowed and role == "anonymous" and status in (403, 404):
                failures.append(f"{method} {url} as anonymous: expected a login redirect, got {status}")
            if rule.endpoint in ACCESS and ACCESS[rule.endpoint] is TOKEN_ONLY and not api_refused:
                failures.append(f"{method} {url} as {role}: the API must answer 401 without a token, got {status}")
    assert not failures, "\n".join(failures)
