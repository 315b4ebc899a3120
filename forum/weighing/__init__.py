"""The cross-functional forum on an item: weight ratings, positions, discussion, escalation."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from sqlalchemy import event

    from forum.items import panels
    from forum.weighing import history, standing, views

    # Ratings, positions, evidence and model versions keep each item's standing current.
    event.listen(app.extensions["forum.sessionmaker"], "after_flush", standing.keep_current)
    history.describe.connect()
    panels.connect(app, views.PANEL)
    app.register_blueprint(views.bp)
