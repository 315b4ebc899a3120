"""Notifications and reminders: following items, the in-app inbox, e-mail through an outbox,
per-kind e-mail preferences and the reminders command."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from sqlalchemy import event

    from forum.auth.views import settings_sections
    from forum.items import panels
    from forum.notify import mail, triggers, views
    from forum.trail.signals import event_recorded

    event_recorded.connect(triggers.on_event)  # notifications in the change's own transaction
    factory = app.extensions["forum.sessionmaker"]
    event.listen(factory, "after_commit", mail.after_commit)  # e-mail once the change is committed
    event.listen(factory, "after_rollback", mail.after_rollback)
    settings_sections.connect(views.settings_section, sender=app, weak=False)
    panels.connect(app, views.PANEL)
    app.register_blueprint(views.bp)
