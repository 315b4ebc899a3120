"""Frameworks of obligations, as data files (forum/systems/frameworks/*.json): which obligations
a system carries follows from its classification. An organisation adds ISO/IEC 42001 or its own
policy by adding a file of the same shape:

    {"key": "...", "name": "...", "about": "...",
     "obligations": [{"key": "...", "title": "...", "description": "...",
                      "when": {"eu_ai_act": ["high_risk"], "gpai_role": ["provider"]}}]}

An obligation without ``when`` applies to every system; with it, to systems whose classification
field holds one of the listed values (any listed field suffices).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib.resources import files

CLASSIFICATION_FIELDS = ("eu_ai_act", "high_risk_area", "gpai_role", "risk_tier")


@dataclass(frozen=True)
class Obligation:
    key: str
    title: str
    description: str
    when: tuple[tuple[str, tuple[str, ...]], ...]

    def applies_to(self, system) -> bool:
        return not self.when or any(getattr(system, field) in values for field, values in self.when)


@dataclass(frozen=True)
class Framework:
    key: str
    name: str
    about: str
    obligations: tuple[Obligation, ...]

    def applicable(self, system) -> list[Obligation]:
        return [o for o in self.obligations if o.applies_to(system)]


class FrameworkError(ValueError):
    """A framework file that cannot be used; the message names the file and the fault."""


def _parse(name: str, text: str) -> Framework:
    try:
        raw = json.loads(text)
        obligations = []
        for entry in raw["obligations"]:
            when = entry.get("when") or {}
            unknown = set(when) - set(CLASSIFICATION_FIELDS)
            if unknown:
                raise FrameworkError(f"{name}: {entry['key']}: unknown classification fields {sorted(unknown)}")
            obligations.append(Obligation(str(entry["key"]), str(entry["title"]), str(entry.get("description", "")),
                                          tuple((field, tuple(values)) for field, values in when.items())))
        keys = [o.key for o in obligations]
        if len(keys) != len(set(keys)):
            raise FrameworkError(f"{name}: obligation keys repeat")
        return Framework(str(raw["key"]), str(raw["name"]), str(raw.get("about", "")), tuple(obligations))
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, FrameworkError):
            raise
        raise FrameworkError(f"{name}: {error!r}") from error


@functools.cache
def all_frameworks() -> tuple[Framework, ...]:
    """Every framework file, by file name (read once per process)."""
    folder = files("forum.systems") / "frameworks"
    found = [_parse(entry.name, entry.read_text(encoding="utf-8"))
             for entry in sorted(folder.iterdir(), key=lambda e: e.name) if entry.name.endswith(".json")]
    keys = [f.key for f in found]
    if len(keys) != len(set(keys)):
        raise FrameworkError("two framework files have the same key")
    return tuple(found)


def framework(key: str) -> Framework | None:
    return next((f for f in all_frameworks() if f.key == key), None)
