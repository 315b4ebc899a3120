"""Technical proximity (issue #12): executives review evidence runs' failing cases themselves,
decisions keep a snapshot of who reviewed what before deciding, anyone in the forum proposes
edge cases the evidence does not cover yet, and a few figures make the habit visible."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.items import panels
    from forum.proximity import history, views

    history.describe.connect()
    panels.connect(app, views.PANEL)
    app.register_blueprint(views.bp)
