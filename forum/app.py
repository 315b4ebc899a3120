"""The application factory: settings, extensions, every area's blueprints and wiring."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from forum.core import db
from forum.admin.views import bp as admin_bp
from forum.api.pages import docs_bp as api_docs_bp
from forum.api.pages import tokens_bp
from forum.api.views import bp as api_bp
from forum.audit.views import bp as audit_bp
from forum.agenda.views import bp as agenda_bp
from forum.auth.views import bp as auth_bp
from forum.core.config import PROJECT_ROOT, instance_secret_key, load_settings
from forum.core import pages, security
from forum.home.views import bp as core_bp
from forum.evidence.views import bp as evidence_bp
from forum.core.extensions import csrf, limiter, login_manager
from forum.weighing.views import bp as forum_bp
from forum.health.views import bp as health_bp
from forum.items.views import bp as items_bp
from forum.proximity.views import bp as proximity_bp
from forum.search.views import bp as search_bp
from forum.notify.views import bp as notify_bp


def create_app(config: dict | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints. It never touches the schema."""
    settings = load_settings(config)
    app = Flask(
        __name__,
        instance_path=str(Path(settings["INSTANCE_PATH"]).resolve()),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
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

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(items_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(forum_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_docs_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(agenda_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(proximity_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(notify_bp)
    return app
