"""Full-text search: one search box in the header, the /search page, one service over two
backends (SQLite FTS5, PostgreSQL tsvector), and the index kept current in each change's own
transaction (forum.search.index, hooked to the app's sessions by ``init_app``)."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from sqlalchemy import event

    from forum.search import index, views

    event.listen(app.extensions["forum.sessionmaker"], "after_flush", index.index_flushed)
    app.register_blueprint(views.bp)
