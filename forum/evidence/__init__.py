"""Evidence from model tests: result files parsed into runs, gated, shown on the item."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.evidence import history, views
    from forum.items import panels

    history.describe.connect()
    panels.connect(app, views.PANEL)
    app.register_blueprint(views.bp)
