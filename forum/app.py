"""The application factory: settings, extensions, every area's blueprints and wiring."""

from __future__ import annotations

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
    proximity,
    search,
    trail,
    weighing,
)
from forum.auth.models import User
from forum.core import bodies, db, pages, security
from forum.core.config import instance_secret_key, load_settings
from forum.core.extensions import csrf, limiter, login_manager
from forum.core.inputs import IdConverter
from forum.notify.queries import load_user

#: Every area, lowest layer first (docs/architecture.md): each ``init_app`` registers the area's
#: pages and connects its receivers to the signals of the areas below it.
AREAS = (trail, auth, items, evidence, weighing, proximity, agenda, notify, search, home, audit, health, admin, api)


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
    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_ECHO=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings["SESSION_COOKIE_SECURE"],
        WTF_CSRF_TIME_LIMIT=None,  # tokens live as long as the login session
    )
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if app.config["PROXY_COUNT"] > 0:  # behind N reverse proxies: the client is what they forward
        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)

    db.init_app(app)
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
    # The id is "<user id>:<session version>" (User.get_id): a password change raises the
    # version, so every session made before it stops loading.
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = load_user(db.session(), int(user_id))  # with the header's unread count
    if user is None or user.session_version != int(version):
        return None
    # A deactivated account is logged out at its next request.
    return user if user.active else None
