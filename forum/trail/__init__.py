"""The tamper-evident decision trail: an append-only hash chain of events."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from sqlalchemy import select

    from forum.core import derived
    from forum.trail.models import TrailHead

    # Every change writes one event, so the head's seq names the state of the data. The
    # statement is built once: it runs in nearly every request.
    head = select(TrailHead.seq).where(TrailHead.id == 1)
    derived.init_app(app, lambda session: session.scalar(head) or 0)
