"""Forum health: the figures that tell leaders whether their decision cycle keeps up with how
fast their models change (decision cycle time, escalations per month, evidence freshness)."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.agenda.queries import kept_action_counts
    from forum.health import tallies
    from forum.health.views import bp
    from forum.items.service import kept_status_counts
    from forum.weighing.drift import kept_revalidation_counts
    from forum.weighing.queue import kept_queue_counts
    from forum.weighing.rules import ForumSettings

    # the tallies move in the change's own transaction
    tallies.listen(app.extensions["forum.sessionmaker"], ForumSettings.from_config(app.config))
    kept_queue_counts.connect(tallies.kept_queue_counts, sender=app, weak=False)  # the queue's counts
    kept_status_counts.connect(tallies.kept_status_counts, sender=app, weak=False)  # the item list's
    kept_revalidation_counts.connect(tallies.kept_revalidation_counts, sender=app, weak=False)  # drifted systems
    kept_action_counts.connect(tallies.kept_action_counts, sender=app, weak=False)  # open and overdue actions
    app.register_blueprint(bp)
