"""Administration pages: accounts and the organisation's functions (admins only)."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.admin.views import bp

    app.register_blueprint(bp)
