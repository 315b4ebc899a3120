"""The application factory: settings, extensions, every area's blueprints and wiring."""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from forum import (
    admin,
    agenda,
    api,
    audit,
    auth,
    evidence,
    health,
    home,
    items,
    notify,
    probes,
    proximity,
    register,
    search,
    systems,
    trail,
    weighing,
)
from forum.auth import sessions
from forum.auth.models import User
from forum.core import bodies, db, pages, security
from forum.core.config import instance_secret_key, load_settings, trusted_hosts
from forum.core.extensions import csrf, limiter, login_manager
from forum.core.inputs import IdConverter, refuse_out_of_range
from forum.notify.queries import load_user

#: Every area, lowest layer first (docs/architecture.md): each ``init_app`` registers the area's
#: pages and connects its receivers to the signals of the areas below it.
AREAS = (trail, auth, systems, items, evidence, weighing, proximity, probes, agenda, register, notify, search, home, audit,
         health, admin, api)


class ForumApp(Flask):
    """Flask with the request's unit of work: what a request wrote is committed when its view
    returns, whatever the status code, and discarded when anything in it raised — even an
    exception that becomes an error page (forum.core.db)."""

    def handle_user_exception(self, e):
        db.discard()
        return super().handle_user_exception(e)

    def preprocess_request(self):
        bodies.apply(self)  # a route's own body limit, before any hook reads the body
        return super().preprocess_request()


def create_app(config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, every area. It never touches the schema."""
    settings = load_settings(config)
    app = ForumApp(
        __name__,
        instance_path=str(Path(settings["INSTANCE_PATH"]).resolve()),
        template_folder=str(files("forum.templates")),  # the checkout's templates/
    )
    # Ids in paths are bounded (forum.core.inputs): a 20-digit id is a 404, not a driver error.
    app.url_map.converters["int"] = IdConverter
    app.url_value_preprocessor(refuse_out_of_range)
    app.config.update(settings)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(settings)  # Werkzeug refuses other Host headers
    app.config.update(
        SQLALCHEMY_ECHO=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings["SESSION_COOKIE_SECURE"],
        REMEMBER_COOKIE_DURATION=timedelta(days=sessions.IDLE_DAYS),
        WTF_CSRF_TIME_LIMIT=None,  # tokens live as long as the login session
    )
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if app.config["PROXY_COUNT"] > 0:  # behind N reverse proxies: the client is what they forward
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)

    db.init_app(app)
    sessions.init_app(app)  # after db: its pending write goes before the request's commit
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    pages.init_app(app)
    login_manager.user_loader(_load_user)
    for area in AREAS:
        area.init_app(app)
    return app


def _load_user(session_id: str) -> User | None:
    """The user of the cookie's login ("<user id>:<key>", forum.auth.sessions) while that login is
    open and the account active; None (not logged in) otherwise."""
    parsed = sessions.parse_id(session_id)
    if parsed is None:
        return None
    user_id, key = parsed
    session = db.session()
    user = load_user(session, user_id, sessions.key_hash(key), sessions.idle_since())
    if user is None or not user.active:  # a deactivated account is logged out at its next request
        return None
    user.login_key = key
    sessions.touch(session, user.login_session_id, user.login_last_seen)
    return user
