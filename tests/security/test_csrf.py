"""Every state-changing route refuses a request without a valid CSRF token — except the JSON
API's, which a session cookie cannot authenticate at all: there a logged-in browser without a
bearer token gets 401, so a forged cross-site request achieves nothing either."""

from __future__ import annotations

from tests.conftest import logged_in_client
from tests.security.test_authorization import TOKEN_ONLY, access_table, url_for_rule


def test_every_post_route_needs_a_valid_token(protected_app, cast, samples):
    post_rules = [r for r in protected_app.url_map.iter_rules() if "POST" in (r.methods or ())]
    assert post_rules, "no POST routes found"
    access = access_table(protected_app)
    failures = []
    for rule in post_rules:
        token_only = access.get(rule.endpoint) is TOKEN_ONLY
        allowed = sorted(access.get(rule.endpoint, set()) - {"anonymous"})
        role = "procurement" if "procurement" in allowed or token_only else (allowed[0] if allowed else None)
        client = logged_in_client(protected_app, cast[role]) if role else protected_app.test_client()
        url = url_for_rule(protected_app, rule, samples)
        for data in ({}, {"csrf_token": "forged-token"}):
            response = client.post(url, data=data)
            body = response.get_data(as_text=True)
            if token_only:
                if response.status_code != 401:
                    failures.append(f"POST {url} with a session and no bearer token: {response.status_code}")
                continue
            if response.status_code != 400 or "security token" not in body:
                failures.append(f"POST {url} as {role or 'anonymous'} with {data or 'no token'}: {response.status_code}")
    assert not failures, "\n".join(failures)
