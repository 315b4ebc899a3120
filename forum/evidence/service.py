"""Rules of evidence: who may attach a result file, ingesting it (parse → gates → store → one trail
event), reading runs with their gates re-checked, comparing two runs, and the bulk gate check
that the forum's escalation rules use.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session, joinedload

from forum.auth.models import User
from forum.core import clock, derived
from forum.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from forum.core.policy import Action, allows
from forum.evidence import events, gates
from forum.evidence.models import CHUNK_BYTES, EvidenceChunk, EvidenceRun
from forum.evidence.parsers import FORMAT_LABELS, Limits, ParsedRun, ParseError, Source, parse
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC
from forum.items.service import can_view
from forum.systems import service as systems
from forum.trail.service import record

CONTENT_TYPES = {
    "promptfoo": "application/json",
    "inspect-json": "application/json",
    "lm-eval-results": "application/json",
    "promptfoo-jsonl": "application/x-ndjson",
    "lm-eval-samples": "application/x-ndjson",
    "inspect-eval": "application/zip",
    "lm-eval-run": "application/zip",
    "junit": "application/xml",
    "nunit": "application/xml",
    "trx": "application/xml",
    "csv": "text/csv",
}
EXTENSIONS = {
    "application/json": ".json", "application/x-ndjson": ".jsonl", "application/zip": ".eval",
    "application/xml": ".xml", "text/csv": ".csv",
}
CLOSED_STATUSES = ("closed",)


class EvidenceRefused(DomainError):
    """The file was refused: unreadable (400) or too large (413)."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason, "file")
        self.status = status


# ------------------------------------------------------------------------------------- tiers
def item_tier(session: Session, item: DecisionItem) -> str | None:
    """The item's strategic-weight tier (tactical / operational / strategic) from the forum's
    current ratings, or None before any rating (the gates then use thresholds.json's default)."""
    return item_tiers(session, [item])[item.id]


def item_tiers(session: Session, items: Iterable[DecisionItem]) -> dict[int, str | None]:
    """Tiers of several items, from their standing (``weight_max``, the highest current total):
    no query."""
    return {item.id: (RUBRIC.tier_for(item.weight_max).key if item.weight_max is not None else None)
            for item in items}




# ------------------------------------------------------------------------------- permissions
def can_attach(actor: User, item: DecisionItem) -> bool:
    """Staff and executives (docs/architecture.md) attach evidence to an item they can see, in any
    state but closed. A draft is visible to its filer only, so only the filer adds evidence to a
    draft (to prepare it before submitting); after a decision evidence is still welcome: it is how
    drift after a model update shows."""
    return allows(actor, Action.TAKE_PART) and can_view(actor, item) and item.status not in CLOSED_STATUSES


def check_attach(actor: User, item: DecisionItem) -> None:
    if not allows(actor, Action.TAKE_PART):
        raise PermissionDenied("Only staff and executives attach evidence.")
    if not can_view(actor, item):
        raise NotFound(f"There is no item {item.id}.")
    if item.status in CLOSED_STATUSES:
        raise Conflict(f"The item is {item.status}: evidence can no longer be attached.", "status")


# ----------------------------------------------------------------------------------- ingest
def upload_limits(config: Mapping) -> Limits:
    """The size limits of an evidence file under an app's configuration (the upload page and
    the API's evidence endpoint use the same)."""
    return Limits(max_bytes=config["EVIDENCE_MAX_BYTES"], max_unpacked_bytes=config["EVIDENCE_MAX_UNPACKED_BYTES"])


#: Room for a multipart envelope and the form's other fields (CSRF) around the file itself.
FORM_ROOM = 64 * 1024


def body_limit(config: Mapping) -> int:
    """The largest request body an evidence upload accepts (page and API): the evidence file
    limit plus room for a form around it. Evidence routes set it on their request, in place of
    the app-wide MAX_CONTENT_LENGTH, so the documented evidence limit is the one that holds."""
    return upload_limits(config).max_bytes + FORM_ROOM


def clean_filename(filename: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().strip(".")
    return base[:255] or "evidence"


@dataclass(frozen=True)
class ResultFile:
    """A result file read and checked, ready to store: its clean name, what the parser found,
    the bytes (``source``) and their SHA-256. Reading one does no database work, so a request
    reads its file before it takes the write lock (``read_result_file``), and only the storing
    (``store_evidence``) makes other changes wait."""

    name: str
    parsed: ParsedRun
    source: Source
    sha256: str


def read_result_file(filename: str, data: bytes | BinaryIO, limits: Limits | None = None) -> ResultFile:
    """Parse and hash a result file (bytes, or a seekable binary file read a piece at a time);
    EvidenceRefused (400 or 413) with what is wrong and where."""
    name = clean_filename(filename)
    try:
        parsed = parse(data, name, limits)
    except ParseError as error:
        raise EvidenceRefused(f"{name}: {error}", error.status) from error
    source = Source(data)
    digest = hashlib.sha256()
    for piece in source.pieces(size=CHUNK_BYTES):
        digest.update(piece)
    return ResultFile(name, parsed, source, digest.hexdigest())


def attach_evidence(
    session: Session, actor: User, item: DecisionItem, filename: str, data: bytes | BinaryIO,
    limits: Limits | None = None,
) -> EvidenceRun:
    """Parse ``data``, compute the gates, store the run with its original file and write ONE
    trail event ``evidence.attached``. Refused input (EvidenceRefused, 400 or 413) stores
    nothing and writes no event.

    ``data`` is the file's bytes, or a seekable binary file (an upload spooled to disk): a file
    is parsed, hashed and stored a piece at a time, never held whole in memory."""
    check_attach(actor, item)
    return store_evidence(session, actor, item, read_result_file(filename, data, limits))


def store_evidence(session: Session, actor: User, item: DecisionItem, result: ResultFile) -> EvidenceRun:
    """Store a result file that was read (``read_result_file``) as a run of ``item``, with its
    gates against the suite's baseline and ONE trail event ``evidence.attached``. A request
    calls it under the write lock; the permission is checked again here, on the item as it is
    now (it may have been closed while the file was read)."""
    check_attach(actor, item)
    parsed, source = result.parsed, result.source
    baseline = _baseline(session, item.id, parsed.suite)
    tier = item_tier(session, item)
    now = clock.now()
    run = EvidenceRun(
        item_id=item.id, sha256=result.sha256, size=source.size, filename=result.name,
        **run_columns(parsed), gate_results={}, uploaded_by_id=actor.id, uploaded_at=now,
    )
    results = gates.evaluate(gates.Facts.of(run, baseline), item.model_version, tier, now)
    run.gate_results = gate_record(results, baseline, tier, item.model_version)
    session.add(run)
    session.flush()
    _store_original(session, run.id, source)
    data = events.attached(
        run_id=run.id, filename=result.name, sha256=run.sha256, size=run.size, format=run.format,
        suite=run.suite, model_id=run.model_id, model_version=run.model_version,
        passed=run.passed, failed=run.failed, errored=run.errored, skipped=run.skipped,
        edge_total=run.edge_total, edge_passed=run.edge_passed, gates=results,
    )
    if item.system_id is None:
        record(session, actor, "evidence.attached", item.subject, data)
    else:  # the run and the item's standing: read per system by its page alone
        systems.record_confined(session, actor, "evidence.attached", item.subject, data, item.system_id)
    return run


def run_columns(parsed) -> dict:
    """A stored run's columns that come from its parsed result file (texts cut to their
    columns' lengths); the upload service and bulk loaders store runs through this."""
    return {
        "content_type": CONTENT_TYPES[parsed.format], "format": parsed.format, "counting": parsed.counting,
        "suite": parsed.suite[:200], "model_id": parsed.model_id[:200],
        "model_version": parsed.model_version[:80], "run_at": parsed.run_at,
        "passed": parsed.passed, "failed": parsed.failed, "errored": parsed.errored,
        "skipped": parsed.skipped, "pass_rate": parsed.pass_rate, "edge_total": parsed.edge_total,
        "edge_passed": parsed.edge_passed, "edge_skipped": parsed.edge_skipped,
        "tag_counts": parsed.tags, "metrics": parsed.metrics,
        "failing_cases": parsed.failing_cases, "notes": parsed.notes[:20],
    }


def gate_record(results, baseline, tier: str | None, item_model_version: str) -> dict:
    """What a run keeps of its gates at upload: the baseline compared with, the item's tier and
    model version then, and each gate's result."""
    return {
        "baseline": baseline, "tier": gates.tier_name(tier), "item_model_version": item_model_version,
        "gates": [g.as_dict() for g in results],
    }


def attach_evidence_files(
    session: Session, actor: User, item: DecisionItem, files: Sequence[tuple[str, bytes | BinaryIO]],
    limits: Limits | None = None,
) -> EvidenceRun:
    """Attach one result file, or an lm-evaluation-harness results JSON together with its
    per-sample JSONL files as ONE run (see ``read_result_files``)."""
    check_attach(actor, item)
    return store_evidence(session, actor, item, read_result_files(files, limits))


def read_result_files(files: Sequence[tuple[str, bytes | BinaryIO]], limits: Limits | None = None) -> ResultFile:
    """Read one result file, or an lm-evaluation-harness results JSON together with its
    per-sample JSONL files: these are kept as one zip (the run's original file, the layout
    lm-eval writes under --output_path), which the parser reads back as a whole. Each file is
    bytes or a seekable binary file (see ``read_result_file``)."""
    if len(files) == 1:
        return read_result_file(files[0][0], files[0][1], limits)
    limits = limits or Limits()
    size = sum(Source(data).size for _name, data in files)
    if size > limits.max_bytes:
        raise EvidenceRefused(f"the files come to {size / (1024 * 1024):.1f} MB together; the limit for "
                              f"evidence is {limits.max_bytes / (1024 * 1024):.1f} MB", 413)
    names: list[str] = []
    for name, _data in files[1:]:
        name = clean_filename(name)
        if not name.lower().endswith(".jsonl"):
            raise EvidenceRefused(f"{name}: per-sample files are lm-evaluation-harness JSON Lines "
                                  "(samples_<task>_<date>.jsonl, written with --log_samples)")
    buffer = io.BytesIO()
    stamp = clock.now().timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            name = clean_filename(name)
            while name in names:
                name = "copy-" + name
            names.append(name)
            content = data if isinstance(data, bytes) else Source(data).read(0)
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), content, zipfile.ZIP_DEFLATED)
    stem = names[0].rsplit(".", 1)[0]
    return read_result_file(f"{stem}.zip", buffer.getvalue(), limits)


def _store_original(session: Session, run_id: int, source: Source) -> None:
    """The file in CHUNK_BYTES pieces, one INSERT each: the driver never holds more than one."""
    for n, piece in enumerate(source.pieces(size=CHUNK_BYTES)):
        session.execute(insert(EvidenceChunk), [{"run_id": run_id, "n": n, "data": bytes(piece)}])


class StoredFile(io.RawIOBase):
    """A run's original file, read back a piece at a time: seekable (HTTP ranges work), each
    piece fetched by its own short query on the engine, so that a response streamed after the
    request's session is closed can still read it, and no connection is held in between."""

    def __init__(self, engine: Engine, run_id: int, size: int):
        super().__init__()
        self.engine, self.run_id, self.size = engine, run_id, size
        self.pos = 0
        self._n, self._piece = -1, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer) -> int:
        """Fill ``buffer`` from the current offset (across pieces), short only at the end."""
        done = 0
        while done < len(buffer) and self.pos < self.size:
            n, start = divmod(self.pos, CHUNK_BYTES)
            if n != self._n:
                with self.engine.connect() as conn:
                    self._piece = conn.execute(select(EvidenceChunk.data).where(
                        EvidenceChunk.run_id == self.run_id, EvidenceChunk.n == n)).scalar_one()
                self._n = n
            part = self._piece[start:start + len(buffer) - done]
            if not part:
                raise OSError(f"evidence run {self.run_id}: piece {n} is shorter than its place says")
            buffer[done:done + len(part)] = part
            done += len(part)
            self.pos += len(part)
        return done


def open_original(session: Session, run: EvidenceRun) -> StoredFile:
    """The run's original file as a read-only, seekable binary file (see StoredFile)."""
    return StoredFile(session.get_bind(), run.id, run.size)


def _baseline(session: Session, item_id: int, suite: str) -> dict | None:
    previous = session.execute(
        select(EvidenceRun.id, EvidenceRun.passed, EvidenceRun.failed, EvidenceRun.errored)
        .where(EvidenceRun.item_id == item_id, EvidenceRun.suite == suite[:200])
        .order_by(EvidenceRun.id.desc()).limit(1)
    ).first()
    if previous is None:
        return None
    return {"run_id": previous.id, "passed": previous.passed,
            "rated": previous.passed + previous.failed + previous.errored}


# ---------------------------------------------------------------------------------- reading
@dataclass
class RunView:
    """A run with its gates as they stand now (re-checked against the clock and the item)."""

    run: EvidenceRun
    gates: list[gates.Gate]
    current: bool  # the latest run of its suite on the item

    @property
    def worst(self) -> str:
        return gates.worst(self.gates)

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS.get(self.run.format, self.run.format)


def recheck(run: EvidenceRun, item: DecisionItem, tier: str | None, now: datetime | None = None) -> list[gates.Gate]:
    baseline = (run.gate_results or {}).get("baseline")
    return gates.evaluate(gates.Facts.of(run, baseline), item.model_version, tier, now or clock.now())


@dataclass
class Listing:
    runs: list[RunView]
    total: int
    suites: dict[str, int]  # suite -> id of its latest run


def runs_for_item(session: Session, item: DecisionItem, limit: int | None = None, offset: int = 0) -> Listing:
    """The item's runs, newest first, with their uploaders and gates re-checked, plus the count
    and the latest run of each suite (two queries)."""
    per_suite = session.execute(
        select(EvidenceRun.suite, func.max(EvidenceRun.id), func.count())
        .where(EvidenceRun.item_id == item.id).group_by(EvidenceRun.suite)
    ).all()
    suites = {suite: latest for suite, latest, _n in per_suite}
    total = sum(n for _suite, _latest, n in per_suite)
    if not total:
        return Listing([], 0, {})
    query = (
        select(EvidenceRun).where(EvidenceRun.item_id == item.id)
        .options(joinedload(EvidenceRun.uploaded_by))
        .order_by(EvidenceRun.id.desc()).offset(offset)
    )
    if limit:
        query = query.limit(limit)
    latest = set(suites.values())
    tier = item_tier(session, item)
    now = clock.now()
    runs = [RunView(run, recheck(run, item, tier, now), run.id in latest) for run in session.scalars(query)]
    return Listing(runs, total, dict(sorted(suites.items())))


def _latest_ids(session: Session, item_ids: list[int]) -> set[int]:
    """Ids of the latest run of each suite of each item (one query)."""
    if not item_ids:
        return set()
    rows = session.execute(
        select(func.max(EvidenceRun.id)).where(EvidenceRun.item_id.in_(item_ids))
        .group_by(EvidenceRun.item_id, EvidenceRun.suite)
    ).scalars()
    return set(rows)


def get_run(session: Session, viewer: User, run_id: int) -> tuple[EvidenceRun, DecisionItem]:
    """The run and its item; NotFound when either does not exist or the viewer may not see it.
    (The original file: open_original.)"""
    query = select(EvidenceRun).where(EvidenceRun.id == run_id).options(
        joinedload(EvidenceRun.uploaded_by),
        joinedload(EvidenceRun.item).joinedload(DecisionItem.function),
    )
    run = session.scalar(query)
    if run is None or not can_view(viewer, run.item):
        raise NotFound(f"There is no evidence run {run_id}.")
    return run, run.item


def view_of(session: Session, run: EvidenceRun, item: DecisionItem) -> RunView:
    latest = _latest_ids(session, [item.id])
    return RunView(run, recheck(run, item, item_tier(session, item)), run.id in latest)


def failing_gates_for(session: Session, item_ids: Iterable[int]) -> dict[int, list[str]]:
    """For each item, the keys of the gates that fail now on the latest run of each of its suites
    (coverage is a warning, never a failure). Items without failing gates map to []. Three
    queries whatever the number of items and runs."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    items = list(session.scalars(select(DecisionItem).where(DecisionItem.id.in_(ids))))
    return failing_gates_of(session, items)


def failing_gates_of(session: Session, items: Sequence[DecisionItem]) -> dict[int, list[str]]:
    """failing_gates_for, for items already loaded: two queries (latest runs, tiers), or none
    while the data and the minute have not changed since they were last asked for these items
    (the derived cache: re-checking the gates of every run is most of a list page's work)."""
    return derived.cached(
        session, ("failing-gates", tuple(sorted(item.id for item in items))),
        lambda: _gate_keys(session, items, lambda gate, _run, _item, _tier: gate.status == "fail"),
        items_only=True)  # the runs and the items' tiers: nothing of the discussion's


def drifted_gates_of(session: Session, items: Sequence[DecisionItem]) -> dict[int, list[str]]:
    """For each item, the keys of the gates of its current runs that show drift now — on a
    decided item, only drift its decision did not see (gates.drifted_since_decision). The
    Python reading of the standing's ``evidence_drifted``. Two queries."""
    return _gate_keys(session, items, gates.drifted_since_decision)


def _gate_keys(session: Session, items: Sequence[DecisionItem], keep) -> dict[int, list[str]]:
    by_id = {item.id: item for item in items}
    if not by_id:
        return {}
    latest = (
        select(func.max(EvidenceRun.id).label("id"))
        .where(EvidenceRun.item_id.in_(list(by_id))).group_by(EvidenceRun.item_id, EvidenceRun.suite)
        .scalar_subquery()
    )
    runs = session.scalars(select(EvidenceRun).where(EvidenceRun.id.in_(latest)))
    tiers = item_tiers(session, by_id.values())
    now = clock.now()
    found: dict[int, list[str]] = {item_id: [] for item_id in by_id}
    for run in runs:
        item = by_id[run.item_id]
        tier = tiers.get(item.id)
        for gate in recheck(run, item, tier, now):
            if keep(gate, run, item, tier) and gate.key not in found[item.id]:
                found[item.id].append(gate.key)
    order = list(gates.GATE_LABELS)
    return {item_id: sorted(keys, key=order.index) for item_id, keys in found.items()}


# -------------------------------------------------------------------------------- comparing
@dataclass
class TagChange:
    tag: str
    base_rate: float | None
    head_rate: float | None
    base_total: int
    head_total: int

    @property
    def delta_pp(self) -> float | None:
        if self.base_rate is None or self.head_rate is None:
            return None
        return (self.head_rate - self.base_rate) * 100

    @property
    def verdict(self) -> str:
        delta = self.delta_pp
        if delta is None:
            return "new" if self.base_total == 0 else "gone" if self.head_total == 0 else "n/a"
        return "better" if delta > 0.05 else "worse" if delta < -0.05 else "same"


def _tag_rate(counts: dict | None) -> tuple[float | None, int]:
    if not counts:
        return None, 0
    rated = counts.get("passed", 0) + counts.get("failed", 0) + counts.get("errored", 0)
    total = rated + counts.get("skipped", 0)
    return (counts.get("passed", 0) / rated if rated else None), total


def check_comparable(base: EvidenceRun, head: EvidenceRun) -> None:
    """Two different runs of the same suite on the same item, or a DomainError saying why not."""
    if base.item_id != head.item_id:
        raise DomainError("Only runs of the same item can be compared.", "head")
    if base.id == head.id:
        raise DomainError(f"Run #{base.id} is chosen twice: choose two different runs of its suite.", "head")
    if base.suite != head.suite:
        raise DomainError(f"Run #{base.id} tests suite “{base.suite}” and run #{head.id} tests “{head.suite}”: "
                          "choose two runs of the same suite.", "head")


def compare(base: EvidenceRun, head: EvidenceRun) -> list[TagChange]:
    """Per tag: pass rate in the earlier (base) and later (head) run of the same suite."""
    check_comparable(base, head)
    changes = []
    for tag in sorted(set(base.tag_counts) | set(head.tag_counts)):
        base_rate, base_total = _tag_rate(base.tag_counts.get(tag))
        head_rate, head_total = _tag_rate(head.tag_counts.get(tag))
        changes.append(TagChange(tag, base_rate, head_rate, base_total, head_total))
    return changes


MAX_CHOICES = 200


def compare_choices(session: Session, item: DecisionItem) -> dict[str, list[tuple[int, str]]]:
    """The item's runs to pick two from, grouped by suite (suites A–Z, runs newest first; the
    latest MAX_CHOICES runs), as (run id, label) pairs: one query, no file bytes."""
    rows = session.execute(
        select(EvidenceRun.id, EvidenceRun.suite, EvidenceRun.run_at, EvidenceRun.uploaded_at,
               EvidenceRun.passed, EvidenceRun.failed, EvidenceRun.errored, EvidenceRun.skipped)
        .where(EvidenceRun.item_id == item.id).order_by(EvidenceRun.id.desc()).limit(MAX_CHOICES)
    ).all()
    groups: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        total = row.passed + row.failed + row.errored + row.skipped
        when = (row.run_at or row.uploaded_at).date().isoformat()
        groups.setdefault(row.suite, []).append((row.id, f"#{row.id} · {when} · {row.passed} of {total} passed"))
    return dict(sorted(groups.items()))


def runs_of_suite(session: Session, item: DecisionItem, suite: str) -> list[EvidenceRun]:
    return list(session.scalars(
        select(EvidenceRun).where(EvidenceRun.item_id == item.id, EvidenceRun.suite == suite)
        .order_by(EvidenceRun.id.desc()).limit(50)
    ))


def download_name(run: EvidenceRun) -> str:
    name = run.filename
    if "." not in name:
        name += EXTENSIONS.get(run.content_type, "")
    return name
