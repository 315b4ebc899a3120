"""Auditors' tools: item timelines, the trail browser, exports, verification and checkpoints."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.audit import views
    from forum.items import panels

    panels.connect(app, views.PANEL)
    app.register_blueprint(views.bp)
