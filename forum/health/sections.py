"""The health page's sections: ``HealthSection(key, template, build)``, listed in order in
``forum.health.service.SECTIONS``.

``build(session, now)`` returns the section's context (a dict), or None to leave the section out;
it must cost a bounded number of queries whatever the data size (aggregate in SQL, or one query
per table, never one per row), and bounded work: the built-in sections read tallies kept
current as changes happen (forum.health.tallies). Every request builds every section. The page includes ``template`` once per section, with the context
available as ``s`` and ``now`` as the page's moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

HealthBuild = Callable[[Session, datetime], dict | None]


@dataclass(frozen=True)
class HealthSection:
    key: str
    template: str
    build: HealthBuild


def build_sections(sections: Iterable[HealthSection], session: Session, now: datetime) -> list[tuple[HealthSection, dict]]:
    """Each section with its context, in order; sections that return None are left out."""
    built = []
    for section in sections:
        context = section.build(session, now)
        if context is not None:
            built.append((section, context))
    return built
