"""Links built from the configured address, not the request's Host header, and unknown hosts
refused (issue: a forged ``Host: evil.example`` made the API's url fields, the OpenAPI servers
entry and the admin's one-time set-password link point at someone else's site)."""

from __future__ import annotations

import re

import pytest

from forum.api import service as api_service
from forum.app import create_app
from forum.core import db
from forum.core.config import SettingsError, load_settings, trusted_hosts
from tests.api.conftest import ApiClient

FORGED = "http://evil.example"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "BASE_URL": "https://forum.example.org", "TRUSTED_HOSTS": "",
            "RATELIMIT_API": "100000 per minute"}


def test_a_request_for_an_unknown_host_is_refused_with_the_right_address(client):
    for path in ("/login", "/api/v1/openapi.json", "/no/such/page"):
        response = client.get(path, base_url=FORGED)
        assert response.status_code == 400, path
        text = response.get_data(as_text=True)
        assert "evil.example" in text and "https://forum.example.org" in text


def test_a_forged_host_cannot_post_either(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "x"}, base_url=FORGED)
    assert response.status_code == 400


def test_the_configured_host_and_the_loopback_names_are_served(client):
    for base in ("https://forum.example.org", "http://localhost", "http://127.0.0.1"):
        assert client.get("/login", base_url=base).status_code == 200, base


def test_api_links_name_the_configured_address_whatever_the_host_asked(client, db_session, make_user, make_item):
    filer = make_user()
    item = make_item(filer, "open")
    _token, secret = api_service.create_token(db_session, None, filer, api_service.NewToken("ci", ["items:read"]))
    db_session.commit()
    api = ApiClient(client, secret)
    answer = api.get(f"/api/v1/items/{item.id}", base_url="http://127.0.0.1")
    assert answer.status_code == 200
    assert answer.get_json()["url"] == f"https://forum.example.org/items/{item.id}"
    listing = api.get("/api/v1/items", base_url="http://localhost").get_json()
    assert {entry["url"] for entry in listing["items"]} == {f"https://forum.example.org/items/{item.id}"}
    document = client.get("/api/v1/openapi.json", base_url="http://127.0.0.1").get_json()
    assert document["servers"] == [{"url": "https://forum.example.org/"}]
    assert "https://forum.example.org/api/v1" in client.get("/api", base_url="http://127.0.0.1").get_data(as_text=True)


def test_the_one_time_set_password_link_names_the_configured_address(client, make_user, login):
    admin = make_user("admin", function=None)
    login(admin)
    response = client.post("/admin/users/new", data={  # asked for at localhost
        "email": "nia@example.com", "display_name": "Nia New", "role": "staff", "function": "risk"})
    assert response.status_code == 201
    links = re.findall(r"<code>([^<]*/set-password/[^<]+)</code>", response.get_data(as_text=True))
    assert links and all(link.startswith("https://forum.example.org/set-password/") for link in links)


def test_a_path_prefix_in_the_address_appears_once(app_config):
    app = create_app({**app_config, "BASE_URL": "https://intranet.example.org/forum/"})
    try:
        with app.test_request_context("/items/3", base_url="https://intranet.example.org/forum"):
            from forum.core.links import external_url
            assert external_url("items.detail", item_id=3) == "https://intranet.example.org/forum/items/3"
    finally:
        db.get_engine(app).dispose()


@pytest.mark.parametrize("raw", ["forum.example.org", "ftp://forum.example.org", "https://",
                                 "https://forum.example.org/?x=1", "https://forum.example.org:port"])
def test_an_address_that_is_not_one_is_refused_at_start(raw, tmp_path):
    with pytest.raises(SettingsError, match="FORUM_BASE_URL"):
        load_settings(environ={"FORUM_BASE_URL": raw, "FORUM_INSTANCE_PATH": str(tmp_path)})


def test_trusted_hosts_default_to_the_address_host_and_loopback():
    assert trusted_hosts({"BASE_URL": "https://forum.example.org", "TRUSTED_HOSTS": ""}) == [
        "127.0.0.1", "forum.example.org", "localhost"]
    assert trusted_hosts({"BASE_URL": "https://a.example", "TRUSTED_HOSTS": "A.example, .corp.example"}) == [
        "a.example", ".corp.example"]
    assert trusted_hosts({"BASE_URL": "https://a.example", "TRUSTED_HOSTS": "*"}) is None


def test_any_host_is_served_when_the_operator_says_so(app_config):
    app = create_app({**app_config, "TRUSTED_HOSTS": "*"})
    try:
        assert app.test_client().get("/login", base_url=FORGED).status_code == 200
    finally:
        db.get_engine(app).dispose()
