"""Who may open which account page: the authorisation table of the accounts routes.

Every route under /admin is admin-only (403 for every other role, a login redirect for
anonymous visitors); /settings is for every logged-in user; /set-password/<token> needs no login
(the token is the credential). A test below fails when a route under /admin is missing from the
table, so new admin pages cannot slip through unchecked.
"""

from __future__ import annotations

import pytest

from forum.trail.models import Event
from tests.auth.helpers import count

ROLES = ("staff", "executive", "auditor", "admin")
ADMIN_ONLY = {"admin": "allowed"}
EVERY_USER = {role: "allowed" for role in ROLES}

# (method, URL, rule name, roles allowed). "{user}" is replaced by another user's id.
TABLE = [
    ("GET", "/admin", "admin.index", ADMIN_ONLY),
    ("GET", "/admin/users", "admin.users", ADMIN_ONLY),
    ("GET", "/admin/users/new", "admin.new_user", ADMIN_ONLY),
    ("POST", "/admin/users/new", "admin.new_user", ADMIN_ONLY),
    ("GET", "/admin/users/{user}", "admin.user", ADMIN_ONLY),
    ("POST", "/admin/users/{user}/access", "admin.update_access", ADMIN_ONLY),
    ("GET", "/admin/users/{user}/deactivate", "admin.deactivate", ADMIN_ONLY),
    ("POST", "/admin/users/{user}/deactivate", "admin.deactivate", ADMIN_ONLY),
    ("GET", "/admin/users/{user}/reactivate", "admin.reactivate", ADMIN_ONLY),
    ("POST", "/admin/users/{user}/reactivate", "admin.reactivate", ADMIN_ONLY),
    ("POST", "/admin/users/{user}/link", "admin.issue_link", ADMIN_ONLY),
    ("GET", "/admin/functions", "admin.functions", ADMIN_ONLY),
    ("POST", "/admin/functions", "admin.functions", ADMIN_ONLY),
    ("GET", "/admin/functions/risk", "admin.function", ADMIN_ONLY),
    ("POST", "/admin/functions/risk", "admin.function", ADMIN_ONLY),
    ("GET", "/admin/access-requests", "admin.access_requests", ADMIN_ONLY),
    ("GET", "/admin/access-requests/1/link", "admin.link_access_request", ADMIN_ONLY),
    ("POST", "/admin/access-requests/1/link", "admin.link_access_request", ADMIN_ONLY),
    ("POST", "/admin/access-requests/1/dismiss", "admin.dismiss_access_request", ADMIN_ONLY),
    ("GET", "/settings", "auth.settings", EVERY_USER),
    ("POST", "/settings/profile", "auth.update_profile", EVERY_USER),
    ("POST", "/settings/password", "auth.change_password", EVERY_USER),
    ("POST", "/settings/notifications", "auth.update_notifications", EVERY_USER),
    ("POST", "/settings/sessions/end-others", "auth.end_other_sessions", EVERY_USER),
]
POST_DATA = {"role": "executive", "function": "risk", "email": "x@example.com", "display_name": "X",
             "key": "legal", "label": "Legal", "digest_frequency": "daily"}


def _request(client, method: str, url: str):
    return client.get(url) if method == "GET" else client.post(url, data=POST_DATA)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "rule", "allowed"), TABLE, ids=[f"{m} {u}" for m, u, _, _ in TABLE])
def test_each_role_gets_what_the_table_says(client, make_user, login, db_session, role, method, url,
                                            rule, allowed):
    target = make_user(function="procurement")
    actor = make_user(role, function=None if role in ("auditor", "admin") else "product")
    login(actor)
    before = count(db_session, Event)

    response = _request(client, method, url.format(user=target.id))

    if role in allowed:  # let in: whatever the page then says about the (dummy) input
        assert response.status_code not in (401, 403), response.status_code
        assert not response.headers.get("Location", "").startswith("/login")
    else:
        assert response.status_code == 403
        assert count(db_session, Event) == before  # refused before any work


@pytest.mark.parametrize(("method", "url", "rule", "allowed"), TABLE, ids=[f"{m} {u}" for m, u, _, _ in TABLE])
def test_anonymous_visitors_are_sent_to_the_login(client, make_user, method, url, rule, allowed):
    target = make_user()
    response = _request(client, method, url.format(user=target.id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_set_password_page_needs_no_login(client, functions):
    assert client.get("/set-password/unknown-token").status_code == 404  # not a login redirect


def test_every_admin_route_is_in_the_table(app):
    covered = {(rule, method) for method, _, rule, _ in TABLE}
    for rule in app.url_map.iter_rules():
        # /settings/tokens belongs to the API area; tests/security covers every route anyway
        if rule.rule.startswith("/admin") or (rule.rule.startswith("/settings") and rule.endpoint.startswith("auth.")):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (rule.endpoint, method) in covered, f"{method} {rule.rule} is not in the table"


@pytest.mark.parametrize("role", ["admin"])
def test_admins_still_cannot_file_or_edit_items(client, make_user, make_item, login, role):
    owner = make_user()
    item = make_item(owner, status="open")
    login(make_user(role, function=None))
    assert client.get("/items/new").status_code == 403
    assert client.post(f"/items/{item.id}/edit", data={"title": "Hijacked", "version": "1"}).status_code == 403
    assert client.post(f"/items/{item.id}/status", data={"action": "escalate", "version": "1"}).status_code == 403
