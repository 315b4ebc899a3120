"""The executive agenda: meetings, pre-read packs, decisions, follow-up actions, recusal."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.agenda import history, panel, views
    from forum.items import panels

    history.describe.connect()
    panels.connect(app, panel.PANEL)
    app.register_blueprint(views.bp)
