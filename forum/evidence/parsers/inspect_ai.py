"""inspect_ai eval logs: the JSON log format and the default ``.eval`` zip.

A log has ``eval`` (task, model, metadata, scorers), ``results`` (scores with metrics and, in
newer versions, the ``headline`` scorer), ``stats`` and ``samples[]`` — one per sample × epoch,
each with ``scores`` keyed by scorer, ``metadata`` (our tags live in ``metadata.tags``) and
``error`` when the sample failed to run.

The ``.eval`` file is a zip of ``header.json`` (the log without samples), ``summaries.json`` (one
light summary per sample-epoch, with the same scores, metadata and error) and
``samples/<id>_epoch_<n>.json``. Current inspect versions compress every member with
Zstandard (zip method 93), which Python's zipfile cannot read: members are located through the
zip directory and decompressed here with ``zstandard``, streamed under a running cap so that an
archive never unpacks to more than ``Limits.max_unpacked_bytes`` (deflate and stored members,
written by older versions, are read the same way).

Rows are sample-epochs. Status: ``error`` set → errored; else the primary scorer's value
``"C"`` (or true, or a number ≥ 1) → passed; any other value → failed; no score at all →
skipped. The primary scorer is ``results.headline.scorer``, else the first scorer. Every
scorer's passed count is kept as a metric ("match: passed"). Model version: only
``eval.metadata.model_version`` (inspect itself has no such field).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from forum.evidence.parsers import stream
from forum.evidence.parsers.archive import MemberReader, zip_members
from forum.evidence.parsers.fields import count, dig, entries_of, finite, items_of, parse_time, text_of
from forum.evidence.parsers.result import ParsedRun, ParseError
from forum.evidence.parsers.safe_json import check_depth, load_json
from forum.evidence.parsers.source import Limits
from forum.evidence.parsers.tally import Tally, clean_tags, is_edge_metadata

FORMAT_JSON = "inspect-json"
FORMAT_EVAL = "inspect-eval"
ROWS = ("samples",)  # where the sample-epochs are (a key path), streamed by the caller


def looks_like_log(doc) -> bool:
    ev = doc.get("eval") if isinstance(doc, dict) else None
    return isinstance(ev, dict) and ("task" in ev or "model" in ev) and (
        "samples" in doc or "results" in doc or "status" in doc
    )


class Counted:
    """Samples counted against the header read so far (the log's ``eval`` and ``results``)."""

    def __init__(self, run: ParsedRun, doc: dict):
        self.run = run
        self.header = (doc.get("eval"), doc.get("results"))

    def fits(self, doc: dict) -> bool:
        """True when ``doc`` has the very header the samples were counted against."""
        return self.header[0] is doc.get("eval") and self.header[1] is doc.get("results")


def count_samples(doc: dict, samples: Iterable) -> Counted:
    counted = ParsedRun(format=FORMAT_JSON)
    _count(counted, doc, samples, lambda i: f"key samples[{i}]")
    return Counted(counted, doc)


def parse_log(doc: dict, counted: Counted | ParseError | None = None) -> ParsedRun:
    """``doc`` is the whole log, or the log without its samples when they were ``counted``
    (count_samples) as they streamed past; a ParseError met while counting them is raised
    after the header's own checks, as when the log is read whole."""
    samples = doc.get("samples")
    if counted is None and samples is not None and not isinstance(samples, list):
        raise ParseError("samples is not a list", "key samples")
    run = _from_header(doc, FORMAT_JSON)
    if isinstance(counted, ParseError):
        raise counted
    if counted is None:
        counted = count_samples(doc, samples or [])
    tallied = counted.run
    if tallied.total == 0 and not samples:
        return _stated(run, doc)
    for name in ("passed", "failed", "errored", "skipped", "tags", "edge_total", "edge_passed",
                 "edge_skipped", "failing_cases"):
        setattr(run, name, getattr(tallied, name))
    run.metrics.update(tallied.metrics)
    return run


def looks_like_eval_zip(infos: dict) -> bool:
    return "header.json" in infos


def parse_eval_zip(data: bytes, limits: Limits, infos: dict | None = None) -> ParsedRun:
    infos = infos if infos is not None else zip_members(data)
    reader = MemberReader(data, limits)
    if "header.json" not in infos:
        raise ParseError("the .eval archive has no header.json member", "zip member header.json")
    header = reader.json(infos["header.json"])
    if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
        raise ParseError("header.json has no eval object", "zip member header.json, key eval")
    run = _from_header(header, FORMAT_EVAL)
    if "summaries.json" in infos:
        # Unpacked a piece at a time, twice (the depth check, then the summaries one at a time),
        # never held whole — unless ijson refuses it (see stream) and json reads it whole.
        member = reader.member(infos["summaries.json"])
        where = "zip member summaries.json"
        check_depth(member, f"{where}, ")
        member.charge()
        if member.first_byte() != b"[":
            samples = load_json(member.read(), f"{where}, ", depth_checked=True)
            raise ParseError("summaries.json is not a list", where)
        try:
            _count(run, header, stream.items(member.file(), "item"), lambda i: f"{where}, entry {i}")
        except stream.NotStreamable:
            samples = load_json(member.read(), f"{where}, ", depth_checked=True)
            _count(run, header, samples, lambda i: f"{where}, entry {i}")
    else:
        names = sorted(n for n in infos if n.startswith("samples/") and n.endswith(".json"))
        if not names:
            return _stated(run, header)
        samples = (reader.json(infos[name]) for name in names)  # one member at a time
        _count(run, header, samples, lambda i: f"zip member {names[i]}")
    return run


#: The metric whose value × scored samples is a count of correct samples.
COUNTABLE_METRIC = "accuracy"
_WHOLE = 1e-6


def _stated(run: ParsedRun, doc: dict) -> ParsedRun:
    """A log written without its samples: the counts its header states exactly — the primary
    scorer's scored samples and accuracy (when accuracy × scored is a whole number) — else no
    counts at all (counting "none"): never a run of 0 cases that fails nothing."""
    primary = next(iter(_scorers(doc, [])), None)
    score = next((s for s in items_of(dig(doc, "results", "scores"))
                  if isinstance(s, dict) and s.get("name") == primary), None)
    scored = count(score.get("scored_samples"), "key results.scores", required=False) if score else None
    if scored is None:
        scored = count(dig(doc, "results", "completed_samples"), "key results.completed_samples", required=False)
    accuracy = finite(dig(score, "metrics", COUNTABLE_METRIC, "value")) if score else None
    exact = accuracy * scored if accuracy is not None and scored is not None else None
    if exact is None or not 0.0 <= accuracy <= 1.0 or abs(exact - round(exact)) > _WHOLE * max(scored, 1):
        run.counting = "none"
        run.notes.append("the log holds no samples and its header states no count of correct samples: "
                         "headline metrics only")
        return run
    run.counting = "stated"
    run.passed, run.failed = round(exact), scored - round(exact)
    run.tags = {"(none)": {"passed": run.passed, "failed": run.failed, "errored": 0, "skipped": 0}} if scored else {}
    run.notes.append(f"counts from the log header ({primary}: {scored} scored, accuracy {accuracy:g}); "
                     "the log holds no samples, so no tags, edge cases or failing cases")
    return run


def _from_header(doc: dict, fmt: str) -> ParsedRun:
    ev = doc["eval"]
    metadata = ev.get("metadata") if isinstance(ev.get("metadata"), dict) else {}
    run = ParsedRun(format=fmt)
    run.suite = text_of(metadata.get("suite")) or text_of(ev.get("task")) or "inspect eval"
    run.model_id = text_of(ev.get("model"))
    run.model_version = text_of(metadata.get("model_version"), 80)
    run.run_at = parse_time(ev.get("created")) or parse_time(dig(doc, "stats", "started_at"))
    results = doc.get("results") if isinstance(doc.get("results"), dict) else {}
    for key in ("total_samples", "completed_samples"):
        count(results.get(key), f"key results.{key}", required=False)
    for score in items_of(results.get("scores")):
        if not isinstance(score, dict):
            continue
        count(score.get("scored_samples"), f"key results.scores[{score.get('name')}].scored_samples",
              required=False)
        for metric in entries_of(score.get("metrics")).values():
            if isinstance(metric, dict):
                run.metrics[f"{score.get('name')}/{metric.get('name')}"] = finite(metric.get("value"))
    status = text_of(doc.get("status"))
    if status and status != "success":
        run.notes.append(f"the eval log's status is {status!r}")
    version = dig(ev, "packages", "inspect_ai")
    if version:
        run.notes.append(f"inspect_ai {text_of(version)}")
    return run


def _scorers(doc: dict, samples: list) -> list[str]:
    """Scorer names, primary first; from the first samples only when the header names none."""
    names: list[str] = []
    headline = dig(doc, "results", "headline", "scorer")
    if isinstance(headline, str):
        names.append(headline)
    for field in (dig(doc, "results", "scores"), dig(doc, "eval", "scorers")):
        for scorer in items_of(field):
            if isinstance(scorer, dict) and isinstance(scorer.get("name"), str) and scorer["name"] not in names:
                names.append(scorer["name"])
    if not names:
        for sample in samples[:50]:
            for key in entries_of(sample.get("scores") if isinstance(sample, dict) else None):
                if key not in names:
                    names.append(key)
    return names


def _value_status(score) -> str:
    if not isinstance(score, dict):
        return "skipped"
    value = score.get("value")
    if isinstance(value, dict):  # a scorer with several values: all must be correct
        values = list(value.values())
        return "passed" if values and all(_correct(v) for v in values) else "failed"
    return "passed" if _correct(value) else "failed"


def _correct(value) -> bool:
    if value is True or value == "C":
        return True
    number = finite(value)
    return number is not None and number >= 1.0


def _count(run: ParsedRun, doc: dict, samples: Iterable, where) -> None:
    samples = iter(samples)
    first = list(itertools.islice(samples, 50))
    samples = itertools.chain(first, samples)
    scorers = _scorers(doc, first)
    primary = scorers[0] if scorers else None
    passed_by = dict.fromkeys(scorers, 0)
    tally = Tally()
    for index, sample in enumerate(samples):
        if not isinstance(sample, dict):
            raise ParseError("a sample is not a JSON object", where(index))
        scores = sample.get("scores") if isinstance(sample.get("scores"), dict) else {}
        error = sample.get("error")
        if error:
            status = "errored"
        elif primary is None or primary not in scores:
            status = "skipped"
        else:
            status = _value_status(scores[primary])
        for name in scorers:
            if not error and _value_status(scores.get(name)) == "passed":
                passed_by[name] += 1
        metadata = sample.get("metadata") if isinstance(sample.get("metadata"), dict) else {}
        tags = clean_tags(metadata.get("tags"))
        edge = is_edge_metadata(metadata)
        tally.add(status, tags, edge, case=lambda s=sample, sc=scores: _case(s, sc, primary))
    tally.into(run)
    for name, passed in passed_by.items():
        run.metrics[f"{name}: passed"] = float(passed)


def _case(sample: dict, scores: dict, primary: str | None) -> dict:
    score = scores.get(primary) if primary else None
    score = score if isinstance(score, dict) else {}
    error = sample.get("error")
    reason = error.get("message") if isinstance(error, dict) else error
    output = dig(sample, "output", "completion")
    return {
        "id": f"{text_of(sample.get('id'))} (epoch {text_of(sample.get('epoch'))})",
        "input": _plain(sample.get("input")),
        "expected": sample.get("target"),
        "output": output if output is not None else score.get("answer"),
        "reason": reason or score.get("explanation"),
    }


def _plain(value):
    """Chat-message input as its text; anything else unchanged."""
    if isinstance(value, list):
        parts = [m.get("content") for m in value if isinstance(m, dict)]
        return "\n".join(p if isinstance(p, str) else str(p) for p in parts if p)
    return value
