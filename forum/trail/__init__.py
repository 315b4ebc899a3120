"""The tamper-evident decision trail: an append-only hash chain of events."""


def init_app(app) -> None:
    """Wire the area into ``app`` (called by the application factory)."""
    from sqlalchemy import select

    from forum.core import derived
    from forum.trail.models import TrailHead

    # Every change writes one event, so the head's seq names the state of the data, its
    # items_seq that of the items and AI systems, and its shared_seq that of everything but what
    # changes confined to one system write. The statement is built once: it runs in nearly every
    # request.
    head = select(TrailHead.seq, TrailHead.items_seq, TrailHead.shared_seq).where(TrailHead.id == 1)

    def versions(session) -> tuple[int, int, int]:
        found = session.execute(head).first()
        return (found.seq, found.items_seq, found.shared_seq) if found is not None else (0, 0, 0)

    derived.init_app(app, versions)
