"""The tamper-evident decision trail: an append-only hash chain of events."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory). The trail has no pages of
    its own (the audit area shows it) and no hooks: every other area appends to it."""
