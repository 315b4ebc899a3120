"""The health page's extension point: ``register_health_section(key, template, build, order)``.

``build(session, now)`` returns the section's context (a dict), or None to leave the section out;
it must cost a bounded number of queries whatever the data size (aggregate in SQL, or one query
per table, never one per row). The page includes ``template`` once per section, in ``order``
(then key), with the context available as ``s`` and ``now`` as the page's moment. Areas register
when their module is imported (create_app imports every blueprint), like the agenda's
pre-read pack sections (forum/agenda/pack.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

HealthBuild = Callable[[Session, datetime], dict | None]


@dataclass(frozen=True)
class HealthSection:
    key: str
    template: str
    build: HealthBuild
    order: int = 100


_SECTIONS: dict[str, HealthSection] = {}


def register_health_section(key: str, template: str, build: HealthBuild, order: int = 100) -> HealthSection:
    section = HealthSection(key, template, build, order)
    _SECTIONS[key] = section
    return section


def unregister_health_section(key: str) -> None:
    _SECTIONS.pop(key, None)


def health_sections() -> list[HealthSection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def build_sections(session: Session, now: datetime) -> list[tuple[HealthSection, dict]]:
    """Each registered section with its context, in order; sections that return None are left out."""
    built = []
    for section in health_sections():
        context = section.build(session, now)
        if context is not None:
            built.append((section, context))
    return built
