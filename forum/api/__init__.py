"""The JSON API for pipelines and tools (/api/v1), its reference page (/api) and personal API
tokens (/settings/tokens, `forum tokens`)."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.api.pages import docs_bp, tokens_bp
    from forum.api.service import on_event
    from forum.api.views import bp
    from forum.trail.signals import event_recorded

    event_recorded.connect(on_event)

    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(tokens_bp)
