"""Each role's home page: what a person should look at first."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.home.views import bp

    app.register_blueprint(bp)
