"""The strategic-weight rubric: criteria, score guides and tier thresholds, read from data.

The rubric lives in ``rubric.json`` next to this module and is loaded once (``RUBRIC``). A rating's
total is the sum of its scores; its tier is the tier with the highest ``min_total`` not above the
total. With the shipped file (0–3 on six criteria, totals 0–18):

    tactical 0–5 · operational 6–11 · strategic 12–18

An item's tier (the highest tier among its functions' current ratings) and its **weight
divergence** flag (their tiers differ by a full tier or more) are read from these thresholds, in
Python and in SQL, by forum.weighing.rules.Scale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RUBRIC_PATH = Path(__file__).with_name("rubric.json")


class RubricError(ValueError):
    """The rubric data file is malformed."""


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    guides: tuple[str, ...]  # one line per score, index = score


@dataclass(frozen=True)
class Tier:
    key: str
    label: str
    min_total: int
    index: int  # 0 = lowest


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Criterion, ...]
    tiers: tuple[Tier, ...]  # lowest first
    max_score: int

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.criteria)

    @property
    def max_total(self) -> int:
        return self.max_score * len(self.criteria)

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)

    def tier(self, key: str) -> Tier | None:
        return next((t for t in self.tiers if t.key == key), None)

    def tier_for(self, total: int) -> Tier:
        """The tier a rating with this total gives."""
        found = self.tiers[0]
        for tier in self.tiers:
            if total >= tier.min_total:
                found = tier
        return found

    def tier_range(self, key: str) -> tuple[int, int | None]:
        """The totals [low, high) a tier covers; high is None for the top tier."""
        tier = self.tier(key)
        if tier is None:
            raise KeyError(key)
        upper = self.tiers[tier.index + 1].min_total if tier.index + 1 < len(self.tiers) else None
        return tier.min_total, upper


def parse_rubric(spec: dict) -> Rubric:
    """Build and check a rubric from its JSON object."""
    try:
        max_score = spec["max_score"]
        if not isinstance(max_score, int) or max_score < 1:
            raise RubricError("max_score must be a whole number of at least 1")
        criteria = []
        for raw in spec["criteria"]:
            guides = tuple(raw["guides"])
            if len(guides) != max_score + 1 or not all(isinstance(g, str) and g for g in guides):
                raise RubricError(f"criterion {raw['key']!r} needs {max_score + 1} non-empty guides")
            criteria.append(Criterion(str(raw["key"]), str(raw["label"]), guides))
        tiers = [
            Tier(str(raw["key"]), str(raw["label"]), int(raw["min_total"]), index)
            for index, raw in enumerate(spec["tiers"])
        ]
    except (KeyError, TypeError) as exc:
        raise RubricError(f"rubric entry malformed: {exc!r}") from exc
    if not criteria or len({c.key for c in criteria}) != len(criteria):
        raise RubricError("criteria must be present and their keys unique")
    if len(tiers) < 2 or len({t.key for t in tiers}) != len(tiers):
        raise RubricError("at least two tiers with unique keys are needed")
    mins = [t.min_total for t in tiers]
    if mins[0] != 0 or mins != sorted(set(mins)) or mins[-1] > max_score * len(criteria):
        raise RubricError("tier min_total must start at 0, rise strictly and stay reachable")
    return Rubric(tuple(criteria), tuple(tiers), max_score)


def load_rubric(path: Path = RUBRIC_PATH) -> Rubric:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RubricError(f"cannot read the rubric {path}: {exc}") from exc
    return parse_rubric(spec)


#: The rubric in force, loaded once when the forum area is imported.
RUBRIC = load_rubric()
