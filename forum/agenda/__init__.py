"""The executive agenda: meetings, pre-read packs, decisions, follow-up actions, recusal.

The rules, by use case: meetings and their state machine (``meetings.py``), agenda entries and
recusal (``entries.py``), decisions and amendments, closing decided items and the lapse of
time-limited approvals (``decisions.py``), follow-up actions (``actions.py``); what they share is
in ``common.py``, and the payloads of the events that the bulk generator (``seed/scale.py``) writes
too are built in ``events.py``. Services take the session and the acting user, add and flush, and
never commit.

One change, one event. Each agenda change writes exactly one event of its own. When the same
user action also moves the item through its lifecycle (adding an entry schedules the item,
recording a decision decides or defers it, completing the last action closes it), the status
change is made by ``forum.items.service.transition`` — the only code that changes an item's
status — and that writes its own ``item.status_changed`` event. The two events describe two
distinct changes (what the agenda recorded, and where the item now stands), in the same
transaction, so they stand or fall together. Every check runs before the first write, so a
refused action writes nothing and no event.

Subjects: meeting-level changes (meeting details and status, entries added, moved, changed or
removed) are events of ``meeting:<id>``; what concerns one item (conflicts declared, decisions,
amendments, actions completed) is an event of ``item:<id>``, so it reads in the item's history.
"""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from forum.agenda import history, panel, views
    from forum.items import panels

    history.describe.connect()
    panels.connect(app, panel.PANEL)
    app.register_blueprint(views.bp)
