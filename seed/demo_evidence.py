"""Demo evidence: the files in seed/evidence/ attached to demo items through attach_evidence,
as listed in seed/evidence/manifest.json (passing, demo-only, regressed and stale evidence)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth import service as accounts
from forum.core import clock
from forum.evidence.service import attach_evidence
from forum.items.models import DecisionItem
from forum_seed import DATA

SEED_DIR = DATA / "evidence"


class EvidenceSeedError(ValueError):
    """The manifest names an item, user or file that is not there."""


def load_demo_evidence(session: Session, folder: Path | None = None) -> int:
    """Attach the manifest's files that have no ``days_ago`` (flushed, not committed), after the
    demo's history; returns the number of runs added. The others are timed steps (``steps``)."""
    folder = folder or SEED_DIR
    added = 0
    for where, entry in _entries(folder):
        if "days_ago" not in entry:
            _attach(session, folder, where, entry)
            added += 1
    return added


def steps(session: Session, now: datetime, first_order: int = 0, folder: Path | None = None) -> list:
    """The manifest's files with a ``days_ago``, as timed steps of the demo's history (so that
    evidence a decision was taken on is attached before the decision)."""
    from forum_seed.demo_agenda import Step

    folder = folder or SEED_DIR
    timed = [(where, entry) for where, entry in _entries(folder) if "days_ago" in entry]
    return [Step(now - timedelta(days=entry["days_ago"]), first_order + n, f"{where}: {entry['file']}",
                 lambda where=where, entry=entry: _attach(session, folder, where, entry))
            for n, (where, entry) in enumerate(timed)]


def _entries(folder: Path):
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for number, entry in enumerate(manifest["runs"], start=1):
        yield f"{folder.name}/manifest.json run {number}", entry


def _attach(session: Session, folder: Path, where: str, entry: dict) -> None:
    item = session.scalar(
        select(DecisionItem).where(DecisionItem.title.startswith(entry["item"], autoescape=True))
        .order_by(DecisionItem.id.desc()).limit(1)
    )
    if item is None:
        raise EvidenceSeedError(f"{where}: no demo item titled {entry['item']!r}…")
    user = accounts.get_user_by_email(session, entry["by"])
    if user is None:
        raise EvidenceSeedError(f"{where}: no user {entry['by']!r}")
    path = folder / entry["file"]
    attach_evidence(session, user, item, path.name, with_run_time(path.name, path.read_bytes(), clock.now()))


def with_run_time(name: str, data: bytes, at: datetime) -> bytes:
    """A demo CSV with its empty ``run_at`` cells (or a missing ``run_at`` column) filled with
    ``at``, as the CI job that writes such a file would: the demo's hand-written CSVs state no run
    time, and evidence that states none has unknown freshness. Other files are left as they are."""
    if not name.lower().endswith(".csv"):
        return data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    if not rows:
        return data
    header = rows[0]
    if "run_at" not in header:
        header.append("run_at")
    column = header.index("run_at")
    stamp = at.isoformat()
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows[1:]:
        row += [""] * (len(header) - len(row))
        row[column] = row[column] or stamp
        writer.writerow(row)
    return out.getvalue().encode("utf-8")
