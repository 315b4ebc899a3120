"""The item page's panels: other areas (weighing, evidence, agenda, audit …) contribute sections.

An area connects a Panel in its ``init_app`` with ``connect(app, panel)``. The item view calls each
connected panel's ``build(session, viewer, item)`` and the template includes ``panel.template``
with the returned dict available as ``p``. A panel's build must issue a bounded number of queries
whatever the data size.

A panel whose HTML depends on the viewer only through a few facts — their role, their function,
which page of a list they asked for — names them as its ``facet``. Its HTML, asks and flags are
then kept (forum.core.derived) until the trail moves, for everyone with the same facet: the next
such viewer gets them without the panel's queries or rendering, its forms carrying their own CSRF
token. A panel is built afresh when the page shows a refused form with its errors.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Flask, current_app, render_template
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core import derived
from forum.core.signals import collect, signals
from forum.items.models import DecisionItem

#: Sent with the app as sender and ``session``, ``viewer``, ``item`` and ``keep``; receivers
#: answer ``(panel, context)``.
item_panels = signals.signal("items.panels")


@dataclass(frozen=True)
class Ask:
    """Something the item asks of the person looking at it, shown at the top of its page: what
    is missing, the action, and where on the page its form is (a fragment)."""

    text: str
    action: str
    href: str


@dataclass(frozen=True)
class Flag:
    """A state another area knows about the item — its tier, a divergence, its evidence — shown
    as a badge at the top of the page, linking to the section that explains it. ``tone`` is the
    badge's style (``tier-strategic``, ``gate-fail`` …); ``title`` says more on hover and to
    screen readers."""

    label: str
    tone: str
    href: str
    title: str = ""


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    build: Callable[[Session, User, DecisionItem], dict]
    order: int = 100
    # "main": the wide column under the summary; "side": the narrow column under the facts.
    # A panel's data may hold "asks": a list of Ask, shown together at the top of the page, and
    # "flags": a list of Flag, shown beside the item's status.
    column: str = "main"
    # What of the viewer and the request the panel's HTML depends on (see above), as a plain
    # hashable value; None: the panel is built for each request.
    facet: Callable[[Session, User, DecisionItem], Hashable] | None = None
    # The panel reads nothing of the discussion (comments, follows): kept across its changes
    # (forum.core.derived ``items_only``).
    items_only: bool = False

    def __call__(self, _app, *, session: Session, viewer: User, item: DecisionItem,
                 keep: bool = True) -> tuple[Panel, dict]:
        if not keep or self.facet is None:
            return self, self.build(session, viewer, item)

        def render() -> tuple[str, dict]:
            p = self.build(session, viewer, item)
            return (render_template(self.template, p=p, item=item),
                    {"asks": tuple(p.get("asks", ())), "flags": tuple(p.get("flags", ()))})

        key = ("item panel", self.key, item.id, self.facet(session, viewer, item))
        html, facts = derived.rendered_forms(session, key, render, self.items_only)
        return self, {"html": html, **facts}


def connect(app: Flask, panel: Panel) -> None:
    """Show ``panel`` on ``app``'s item pages (for as long as the app lives)."""
    item_panels.connect(panel, sender=app, weak=False)


def build_all(session: Session, viewer: User, item: DecisionItem, keep: bool = True) -> list[tuple[Panel, dict]]:
    """Every connected panel's context for ``viewer``, in page order; ``keep`` False builds each
    panel afresh (the page shows a refused form in one of them)."""
    built = collect(item_panels, current_app._get_current_object(), session=session, viewer=viewer, item=item,
                    keep=keep)
    return sorted(built, key=lambda pair: (pair[0].order, pair[0].key))
