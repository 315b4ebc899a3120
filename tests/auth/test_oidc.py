"""Single sign-on against a real OpenID Provider: the certified npm package oidc-provider, started
on 127.0.0.1 by tests/oidcprovider.py. The forum talks to it over HTTP through Authlib; the tests
walk its real login page with requests and bring the answer back to the forum.

Covered: just-in-time accounts from groups, groups re-applied at every sign-in, access requests
for people without a mapped group (or whose address belongs to a local account, which only an
administrator links), deactivated accounts, every forged or replayed answer refused with nothing
provisioned, key rotation, RP-initiated logout, logins that expire, passwords turned off but for
break-glass administrators.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from forum.app import create_app
from forum.auth.models import AccessRequest, LoginSession, User
from forum.core import db
from forum.core.config import SettingsError
from forum.trail.models import Event
from tests.auth.helpers import clock_moved, count
from tests.conftest import PASSWORD
from tests.oidcprovider import OidcProvider, confirm_logout, ensure_installed, sign_in

CALLBACK = "http://localhost/login/oidc/callback"
SECRET = "forum-test-client-secret"
CLIENT = {"client_id": "forum", "client_secret": SECRET, "redirect_uris": [CALLBACK],
          "post_logout_redirect_uris": ["http://localhost/login"]}
ACCOUNTS = {
    "alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice Risk",
              "groups": ["forum-staff", "forum-risk"]},
    "erin": {"email": "erin@example.com", "email_verified": True, "name": "Erin Exec", "groups": ["forum-executives"]},
    "nora": {"email": "nora@example.com", "email_verified": True, "name": "Nora Outside", "groups": ["marketing"]},
    "sam": {"email": "sam@example.com", "email_verified": True, "name": "Sam Staff", "groups": ["forum-staff"]},
}
SSO = {
    "OIDC_CLIENT_ID": "forum", "OIDC_CLIENT_SECRET": SECRET, "OIDC_NAME": "Example Login",
    "OIDC_SCOPES": "openid email profile groups",
    "OIDC_ROLES": "forum-admins=admin, forum-executives=executive, forum-auditors=auditor, forum-staff=staff",
    "OIDC_FUNCTIONS": "forum-procurement=procurement; forum-product=product; forum-risk=risk",
}


@pytest.fixture(scope="module")
def provider():
    ensure_installed()
    with OidcProvider(clients=[CLIENT], accounts=ACCOUNTS) as op:
        yield op


@pytest.fixture
def sso_config(app_config, provider, functions):
    provider.set_accounts(ACCOUNTS)
    provider.tamper(None)
    return {**app_config, **SSO, "OIDC_ISSUER": provider.issuer}


@pytest.fixture
def sso_app(sso_config):
    application = create_app(sso_config)
    yield application
    db.get_engine(application).dispose()


@pytest.fixture
def browser(sso_app):
    """A browser of the forum: its test client (the forum's cookies) and a requests session (the
    provider's cookies)."""
    return sso_app.test_client(), requests.Session()


def start(client) -> str:
    response = client.get("/login/oidc")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def come_back(client, callback_url: str):
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_as(browser, login: str):
    client, http = browser
    return come_back(client, sign_in(http, start(client), login, CALLBACK))


def user_by_email(session, email: str) -> User | None:
    session.expire_all()
    return session.scalar(select(User).where(User.email == email))


def events(session, kind: str) -> list[Event]:
    session.expire_all()
    return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)))


def logged_in(client) -> bool:
    return client.get("/settings").status_code == 200


# ------------------------------------------------------------------------------------ accounts
def test_who_may_use_the_sign_in_routes(sso_app, make_user):
    """The authorisation matrix of the single sign-on routes (the main matrix runs without a
    provider, where they are 404): visitors start a sign-in; a logged-in person is sent on; an
    answer without a sign-in started in the same browser is refused whoever sends it."""
    visitor = sso_app.test_client()
    assert visitor.get("/login/oidc").headers["Location"].startswith(sso_app.config["OIDC_ISSUER"])
    assert visitor.get("/login/oidc/callback?state=forged&code=forged").status_code == 400
    for role in ("staff", "executive", "auditor", "admin"):
        user = make_user(role, function="risk" if role in ("staff", "executive") else None)
        client = sso_app.test_client()
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
        assert client.get("/login/oidc?next=/items").headers["Location"] == "/items"
        assert client.get("/login/oidc/callback?state=forged&code=forged").status_code == 400
        assert client.get("/admin/access-requests").status_code == (200 if role == "admin" else 403)



def test_the_login_page_offers_the_provider_only_when_one_is_configured(sso_app, client):
    assert "Sign in with Example Login" in sso_app.test_client().get("/login").get_data(as_text=True)
    plain = client.get("/login").get_data(as_text=True)
    assert "Sign in with" not in plain and 'name="password"' in plain
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?state=x&code=y").status_code == 404


def test_logging_out_may_lead_to_the_provider_and_nowhere_else(sso_app, client, provider):
    # Browsers apply form-action to the redirect after a form: the logout form leads there.
    policy = sso_app.test_client().get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer};" in policy
    assert "form-action 'self';" in client.get("/login").headers["Content-Security-Policy"]


def test_a_first_sign_in_creates_the_account_from_the_groups(browser, db_session, provider):
    response = sign_in_as(browser, "alice")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = user_by_email(db_session, "alice@example.com")
    assert (user.role, user.function_key, user.display_name) == ("staff", "risk", "Alice Risk")
    assert (user.identity_issuer, user.identity_subject) == (provider.issuer, "alice")
    assert not user.has_password and user.last_login_at is not None
    created = events(db_session, "user.created")[-1]
    assert created.actor == "identity-provider" and created.data["source"] == "oidc"
    signed = events(db_session, "user.signed_in")[-1]
    assert signed.subject == f"user:{user.id}" and signed.data["method"] == "oidc"
    assert logged_in(browser[0])
    settings = browser[0].get("/settings").get_data(as_text=True)
    assert "have no password here" in settings and "Change the password" not in settings
    login = db_session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    assert login.method == "oidc" and login.id_token
    assert timedelta(hours=11, minutes=59) < login.expires_at - login.created_at <= timedelta(hours=12)


def test_the_answer_takes_the_person_where_they_were_going(browser):
    client, http = browser
    location = client.get("/login/oidc?next=/items").headers["Location"]
    assert come_back(client, sign_in(http, location, "erin", CALLBACK)).headers["Location"] == "/items"


def test_groups_are_applied_again_at_every_sign_in(sso_app, db_session, provider):
    assert sign_in_as((sso_app.test_client(), requests.Session()), "alice").status_code == 302
    moved = {**ACCOUNTS, "alice": {**ACCOUNTS["alice"], "groups": ["forum-staff", "forum-product"]}}
    provider.set_accounts(moved)
    assert sign_in_as((sso_app.test_client(), requests.Session()), "alice").status_code == 302
    user = user_by_email(db_session, "alice@example.com")
    assert user.function_key == "product"
    change = events(db_session, "user.updated")[-1]
    assert change.actor == "identity-provider"
    assert change.data["changes"] == {"function": {"before": "risk", "after": "product"}}

    provider.set_accounts({**ACCOUNTS, "alice": {**ACCOUNTS["alice"], "groups": ["forum-executives"]}})
    assert sign_in_as((sso_app.test_client(), requests.Session()), "alice").status_code == 302
    user = user_by_email(db_session, "alice@example.com")
    assert (user.role, user.function_key) == ("executive", None)


def test_leaving_every_mapped_group_refuses_the_next_sign_in(sso_app, db_session, provider):
    assert sign_in_as((sso_app.test_client(), requests.Session()), "alice").status_code == 302
    provider.set_accounts({**ACCOUNTS, "alice": {**ACCOUNTS["alice"], "groups": ["marketing"]}})
    browser = (sso_app.test_client(), requests.Session())
    response = sign_in_as(browser, "alice")
    assert response.status_code == 403
    assert "do not have access to the forum yet" in response.get_data(as_text=True)
    assert not logged_in(browser[0])
    user = user_by_email(db_session, "alice@example.com")
    refused = events(db_session, "user.sign_in_refused")[-1]
    assert refused.subject == f"user:{user.id}" and refused.data["reason"] == "no_role"


@pytest.mark.parametrize(("login", "reason"), [("nora", "no_role"), ("sam", "no_function")])
def test_someone_without_a_mapped_group_gets_no_account_but_an_access_request(
        sso_app, browser, db_session, login, reason, make_user):
    users_before = count(db_session, User)
    response = sign_in_as(browser, login)
    assert response.status_code == 403
    assert "No access yet" in response.get_data(as_text=True)
    assert count(db_session, User) == users_before
    assert count(db_session, LoginSession) == 0
    request = db_session.scalar(select(AccessRequest))
    assert (request.subject, request.reason, request.attempts, request.closed_at) == (login, reason, 1, None)
    assert events(db_session, "user.sign_in_refused")[-1].subject == f"access-request:{request.id}"
    # A second try counts on the same request.
    sign_in_as((sso_app.test_client(), requests.Session()), login)
    db_session.expire_all()
    assert db_session.scalar(select(AccessRequest)).attempts == 2

    admin = make_user("admin", function=None)
    client = sso_app.test_client()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    page = client.get("/admin/access-requests").get_data(as_text=True)
    assert f"{login}@example.com" in page and "2 attempts" in page
    assert "1 access request</a> from single sign-on" in client.get("/").get_data(as_text=True)


def test_accounts_of_single_sign_on_do_not_wait_for_a_password(browser, sso_app, make_user):
    sign_in_as(browser, "erin")
    admin = make_user("admin", function=None)
    client = sso_app.test_client()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    home = client.get("/").get_data(as_text=True)
    assert "Erin Exec" not in home.split("awaiting-heading")[1].split("</section>")[0]
    assert "Every active account has set its password." in home


def test_an_access_request_closes_when_the_person_is_given_a_group(sso_app, db_session, provider):
    sign_in_as((sso_app.test_client(), requests.Session()), "nora")
    provider.set_accounts({**ACCOUNTS, "nora": {**ACCOUNTS["nora"], "groups": ["forum-auditors"]}})
    assert sign_in_as((sso_app.test_client(), requests.Session()), "nora").status_code == 302
    db_session.expire_all()
    request = db_session.scalar(select(AccessRequest))
    assert request.closed_how == "signed_in" and request.closed_at is not None
    assert user_by_email(db_session, "nora@example.com").role == "auditor"


def test_an_address_of_a_local_account_is_linked_only_by_an_administrator(sso_app, db_session, make_user):
    local = make_user("staff", function="procurement", email="alice@example.com", name="Alice Local")
    admin = make_user("admin", function=None)
    response = sign_in_as((sso_app.test_client(), requests.Session()), "alice")
    assert response.status_code == 403 and "already exists" in response.get_data(as_text=True)
    assert user_by_email(db_session, "alice@example.com").identity_subject is None
    request = db_session.scalar(select(AccessRequest))
    assert request.reason == "email_taken"

    client = sso_app.test_client()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert "Link to Alice Local" in client.get("/admin/access-requests").get_data(as_text=True)
    confirm = client.get(f"/admin/access-requests/{request.id}/link")
    assert confirm.status_code == 200 and "Yes, link the account" in confirm.get_data(as_text=True)
    assert client.post(f"/admin/access-requests/{request.id}/link").status_code == 302
    linked = user_by_email(db_session, "alice@example.com")
    assert linked.id == local.id and linked.identity_subject == "alice"
    change = events(db_session, "user.updated")[-1]
    assert change.actor == admin.email and "identity" in change.data["changes"]
    # A second link of the closed request is refused.
    assert client.post(f"/admin/access-requests/{request.id}/link").status_code == 302
    assert "already closed" in client.get("/admin/access-requests").get_data(as_text=True)

    browser = (sso_app.test_client(), requests.Session())
    assert sign_in_as(browser, "alice").status_code == 302
    user = user_by_email(db_session, "alice@example.com")
    assert (user.id, user.role, user.function_key) == (local.id, "staff", "risk")  # the groups decide now


def test_an_administrator_dismisses_a_request(sso_app, db_session, make_user):
    sign_in_as((sso_app.test_client(), requests.Session()), "nora")
    request = db_session.scalar(select(AccessRequest))
    admin = make_user("admin", function=None)
    client = sso_app.test_client()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert client.post(f"/admin/access-requests/{request.id}/dismiss").status_code == 302
    assert "No open access requests" in client.get("/admin/access-requests").get_data(as_text=True)
    assert events(db_session, "user.access_request_dismissed")[-1].actor == admin.email
    assert client.post("/admin/access-requests/999999/dismiss").status_code == 404


def test_a_deactivated_account_is_refused_even_when_the_provider_says_yes(sso_app, db_session):
    sign_in_as((sso_app.test_client(), requests.Session()), "alice")
    user = user_by_email(db_session, "alice@example.com")
    user.active = False
    db_session.commit()
    logins = count(db_session, LoginSession)
    browser = (sso_app.test_client(), requests.Session())
    response = sign_in_as(browser, "alice")
    assert response.status_code == 403 and "deactivated" in response.get_data(as_text=True)
    assert count(db_session, LoginSession) == logins and not logged_in(browser[0])
    assert events(db_session, "user.sign_in_refused")[-1].data["reason"] == "deactivated"


# ------------------------------------------------------------------------- forged answers
@pytest.mark.parametrize("mode", ["iss", "aud", "expired", "nonce", "signature", "alg-none"])
def test_a_forged_id_token_is_refused_with_nothing_provisioned(browser, db_session, provider, mode):
    provider.tamper(mode)
    response = sign_in_as(browser, "alice")
    assert response.status_code == 400
    assert "ID token" in response.get_data(as_text=True)
    assert user_by_email(db_session, "alice@example.com") is None
    assert count(db_session, LoginSession) == 0 and count(db_session, AccessRequest) == 0
    refused = events(db_session, "user.sign_in_refused")[-1]
    assert refused.subject == "sign-in:oidc" and refused.data["reason"] == "bad_id_token"
    assert not logged_in(browser[0])


def test_a_replayed_answer_is_refused(sso_app, browser, db_session):
    client, http = browser
    location = start(client)
    cookie = client.get_cookie("session").value  # the session before the answer: holds the state
    answer = sign_in(http, location, "alice", CALLBACK)
    assert come_back(client, answer).status_code == 302
    # The same browser again: its session no longer expects that answer.
    assert come_back(client, answer).status_code == 400
    # A copy of the earlier cookie with the same answer: the state was spent.
    thief = sso_app.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    replay = come_back(thief, answer)
    assert replay.status_code == 400 and "used already" in replay.get_data(as_text=True)
    assert count(db_session, LoginSession) == 1 and not logged_in(thief)


def test_an_answer_for_another_browser_is_refused(sso_app, browser, db_session):
    client, http = browser
    answer = sign_in(http, start(client), "alice", CALLBACK)
    other = sso_app.test_client()
    start(other)  # the other browser started a sign-in of its own
    response = come_back(other, answer)
    assert response.status_code == 400 and "does not belong" in response.get_data(as_text=True)
    assert user_by_email(db_session, "alice@example.com") is None


def test_a_refusal_at_the_provider_is_shown(browser, db_session):
    client, _ = browser
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get(f"/login/oidc/callback?error=access_denied&error_description=End-User+aborted&state={state}")
    assert response.status_code == 400 and "End-User aborted" in response.get_data(as_text=True)
    assert count(db_session, User) == 0


def test_a_discovery_document_of_another_issuer_is_refused(sso_config, provider, db_session):
    # The same server under another name: its discovery document names 127.0.0.1, not localhost.
    other_name = provider.issuer.replace("127.0.0.1", "localhost")
    application = create_app({**sso_config, "OIDC_ISSUER": other_name})
    try:
        response = application.test_client().get("/login/oidc")
        assert response.status_code == 502 and "another issuer" in response.get_data(as_text=True)
    finally:
        db.get_engine(application).dispose()


def test_an_unreachable_provider_is_a_clear_error(sso_config):
    application = create_app({**sso_config, "OIDC_ISSUER": "http://127.0.0.1:9", "OIDC_TIMEOUT_SECONDS": 2})
    try:
        response = application.test_client().get("/login/oidc")
        assert response.status_code == 502 and "did not answer" in response.get_data(as_text=True)
    finally:
        db.get_engine(application).dispose()


def test_a_rotated_signing_key_is_fetched(sso_app, provider, db_session):
    assert sign_in_as((sso_app.test_client(), requests.Session()), "alice").status_code == 302
    old_kid = provider.jwks()["keys"][0]["kid"]
    provider.restart(kid=f"{old_kid}-rotated")
    assert sign_in_as((sso_app.test_client(), requests.Session()), "alice").status_code == 302
    assert len(events(db_session, "user.signed_in")) == 2


# --------------------------------------------------------------------------- logout, expiry
def test_logging_out_ends_the_providers_session_too(browser, db_session):
    client, http = browser
    sign_in_as(browser, "alice")
    response = client.post("/logout")
    assert response.status_code == 302
    end_session = response.headers["Location"]
    query = parse_qs(urlsplit(end_session).query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/login"] and query["id_token_hint"]
    assert confirm_logout(http, end_session).startswith("http://localhost/login")
    assert not logged_in(client)
    assert db_session.scalar(select(LoginSession)).ended_reason == "logout"


def test_a_login_through_the_provider_lasts_only_its_hours(browser):
    client, _ = browser
    sign_in_as(browser, "alice")
    assert logged_in(client)
    with clock_moved(timedelta(hours=12, minutes=1)):
        assert not logged_in(client)


# ------------------------------------------------------------------------------ passwords off
def test_passwords_can_be_turned_off_but_for_break_glass_administrators(sso_config, make_user):
    staff = make_user("staff")
    admin = make_user("admin", function=None)
    application = create_app({**sso_config, "LOCAL_LOGIN": False, "BREAK_GLASS_ADMINS": f"{admin.email}, {staff.email}"})
    try:
        client = application.test_client()
        page = client.get("/login").get_data(as_text=True)
        assert "Emergency log-in for administrators" in page and "Sign in with Example Login" in page
        refused = client.post("/login", data={"email": staff.email, "password": PASSWORD})
        assert refused.status_code == 403 and "turned off" in refused.get_data(as_text=True)
        assert client.post("/login", data={"email": admin.email, "password": PASSWORD}).status_code == 302
    finally:
        db.get_engine(application).dispose()


@pytest.mark.parametrize(("settings", "message"), [
    ({"LOCAL_LOGIN": False}, "needs single sign-on"),
    ({"OIDC_ISSUER": "https://login.example.org", "OIDC_CLIENT_ID": "forum"}, "FORUM_OIDC_CLIENT_SECRET"),
    ({"OIDC_ISSUER": "login.example.org", "OIDC_CLIENT_ID": "f", "OIDC_CLIENT_SECRET": "s"}, "not an issuer URL"),
    ({"OIDC_ISSUER": "https://login.example.org", "OIDC_CLIENT_ID": "f", "OIDC_CLIENT_SECRET": "s",
      "OIDC_SCOPES": "email"}, "must include openid"),
    ({"OIDC_ISSUER": "https://login.example.org", "OIDC_CLIENT_ID": "f", "OIDC_CLIENT_SECRET": "s",
      "OIDC_ROLES": "forum-admins=superuser"}, "unknown roles superuser"),
    ({"OIDC_ISSUER": "https://login.example.org", "OIDC_CLIENT_ID": "f", "OIDC_CLIENT_SECRET": "s",
      "OIDC_ROLES": "forum-admins"}, "is not group=name"),
    ({"OIDC_ISSUER": "https://login.example.org", "OIDC_CLIENT_ID": "f", "OIDC_CLIENT_SECRET_FILE": "/nonexistent/x"},
     "cannot be read"),
])
def test_single_sign_on_settings_that_cannot_work_are_refused_at_start(app_config, settings, message):
    with pytest.raises(SettingsError, match=message):
        create_app({**app_config, **settings})


def test_a_group_mapping_may_be_json_for_names_with_commas(sso_config, provider, db_session):
    dn = "CN=Forum Risk,OU=Groups,DC=example,DC=org"
    provider.set_accounts({"alice": {**ACCOUNTS["alice"], "groups": [dn]}})
    application = create_app({**sso_config, "OIDC_ROLES": f'{{"{dn}": "staff"}}',
                              "OIDC_FUNCTIONS": f'{{"{dn}": "risk"}}'})
    try:
        assert sign_in_as((application.test_client(), requests.Session()), "alice").status_code == 302
        assert user_by_email(db_session, "alice@example.com").function_key == "risk"
    finally:
        db.get_engine(application).dispose()
