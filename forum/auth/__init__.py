"""Accounts, roles, functions and login."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.auth.views import bp

    app.register_blueprint(bp)
