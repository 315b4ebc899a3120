"""Accounts, roles, functions and login."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.auth import oidc
    from forum.auth.sessions import browser_name
    from forum.auth.views import bp

    oidc.init_app(app)
    app.register_blueprint(bp)
    app.jinja_env.filters["browser_name"] = browser_name
