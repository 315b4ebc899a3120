"""Decision items: filing, editing and the item lifecycle."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.items.history import describe
    from forum.items.views import bp

    describe.connect()
    app.register_blueprint(bp)
