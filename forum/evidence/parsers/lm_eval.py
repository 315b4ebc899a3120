"""lm-evaluation-harness: its results JSON and its per-sample JSONL (``--log_samples``).

Results JSON: ``results`` maps each task (and group) to its metrics, keyed ``"<metric>,<filter>"``
(``"acc,none"``, ``"acc_stderr,none"``; stderr values may be the string ``"N/A"`` or a bare
``NaN``), ``n-samples`` (from lm-eval 0.4.3) gives each task's ``original``/``effective``
sample counts, ``model_name`` (or ``config.model_args``) names the model. It holds aggregates
only. Cases are counted only where the file states them exactly: a task whose metrics include a
per-document 0/1 metric (COUNTABLE_METRICS: accuracy, exact match …) and whose sample count is
stated has passed = that metric × its samples, when that is a whole number (counting "stated").
Every other metric — BLEU, F1, perplexity — is a headline metric only, and a file with no
countable task (or, as before 0.4.3, no sample counts) has no cases at all (counting "none"):
it is never turned into passed or failed cases. There are no per-case tags, so edge cases are
not known from this file alone. Groups (``group_subtasks``) are not counted twice; the suite
names the groups, then the tasks (``mmlu_stem: abstract_algebra, anatomy``).

Per-sample JSONL: one line per document, ``{doc_id, doc, target, resps, filtered_resps,
metrics: [names], <metric>: value}``. A row passes when its first listed 0/1 metric equals 1.0
(samples scored only by other metrics are refused alone, and left uncounted in a bundle);
tags come from ``doc.tags`` (or ``doc.tag``); a doc field named in ``edge_markers``
(forum/evidence/thresholds.json: tags, category, type, difficulty …) marks edge cases. The
lines carry neither task nor model: the suite is taken from the file name lm-eval gives
(``samples_<task>_<date>.jsonl``) when there is one.

Both together (one run): a zip of the results JSON and its samples JSONL files — what lm-eval
writes under ``--output_path`` — or, on the upload page, the results file plus the samples files
(the forum zips them). The run then has the results' model, tasks and headline metrics AND the
samples' per-case pass/fail, tags and edge cases; a samples file whose task (from its name) the
results file does not report is refused as coming from another run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from forum.evidence.parsers.archive import MemberReader
from forum.evidence.parsers.fields import count, dig, finite, parse_time, text_of
from forum.evidence.parsers.result import ParsedRun, ParseError
from forum.evidence.parsers.safe_json import check_depth, json_lines
from forum.evidence.parsers.source import Limits
from forum.evidence.parsers.tally import Tally, clean_tags, is_edge_metadata

FORMAT_RESULTS = "lm-eval-results"
FORMAT_SAMPLES = "lm-eval-samples"
FORMAT_BUNDLE = "lm-eval-run"  # a zip of the results JSON with its samples JSONL files
_META_KEYS = {"name", "alias", "sample_len", "samples", " ", ""}


def looks_like_results(doc) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        return False
    markers = ("n-samples", "configs", "lm_eval_version", "versions", "higher_is_better", "model_name")
    return any(key in doc for key in markers)


def looks_like_sample(row) -> bool:
    return isinstance(row, dict) and "doc_id" in row and "doc" in row


#: Per-document 0/1 metrics: their mean over a task's samples is a pass rate, so the metric ×
#: the sample count is a count of passed documents (when it is a whole number). Any other metric
#: (BLEU, F1, perplexity, mc2 …) is a headline metric: shown and compared, never turned into
#: passed or failed cases.
COUNTABLE_METRICS = frozenset({"acc", "acc_norm", "acc_mutual_info", "exact_match", "em", "mc1"})
_WHOLE = 1e-6  # how close metric × samples must come to a whole number to count as one


def metric_name(key: str) -> str:
    """``"acc,none"`` → ``"acc"``; ``"exact_match,strict-match"`` → ``"exact_match"``."""
    return key.split(",", 1)[0].strip()


def parse_results(doc: dict) -> ParsedRun:
    run = ParsedRun(format=FORMAT_RESULTS)
    results: dict = doc["results"]
    subtasks = doc.get("group_subtasks") if isinstance(doc.get("group_subtasks"), dict) else {}
    groups = [g for g, members in subtasks.items() if members and g in results]
    n_samples = doc.get("n-samples") if isinstance(doc.get("n-samples"), dict) else {}
    tasks, counted, headline_only = [], [], []
    passed = total = 0
    for task, metrics in results.items():
        if not isinstance(metrics, dict) or task in groups:
            continue
        tasks.append(task)
        where = f"key results.{task}"
        for key, value in metrics.items():
            if key in _META_KEYS or not isinstance(value, int | float) or isinstance(value, bool):
                continue
            run.metrics[f"{task} {metric_name(key)}"] = finite(value)
        samples = dig(n_samples, task, "effective")
        if samples is None:
            samples = metrics.get("sample_len")
            source = f"{where}.sample_len"
        else:
            source = f"key n-samples.{task}.effective"
        size = count(samples, source, required=False)
        found = _countable(metrics)
        if found is None:
            headline_only.append(task)
            continue
        name, value = found
        number = finite(value)
        if number is None:
            raise ParseError(f"the metric {metric_name(name)} of task {task} is not a number: "
                             "cannot count its passed cases", f"{where}.{name}")
        if size is None:
            run.notes.append(f"task {task}: the file states no sample count, so no cases are counted")
            headline_only.append(task)
            continue
        exact = number * size
        if not 0.0 <= number <= 1.0 or abs(exact - round(exact)) > _WHOLE * max(size, 1):
            run.notes.append(f"task {task}: {metric_name(name)} × {size} samples is not a whole number "
                             "of cases, so none are counted")
            headline_only.append(task)
            continue
        counted.append(task)
        total += size
        passed += round(exact)
    if headline_only:
        run.notes.append("headline metrics only (no pass or fail per case) for " + ", ".join(headline_only)[:300])
    if counted:
        run.counting = "stated"
        run.passed, run.failed = passed, total - passed
        run.tags = {"(none)": {"passed": passed, "failed": total - passed, "errored": 0, "skipped": 0}}
        run.notes.append("counts from per-document accuracy metrics × sample counts ("
                         + ", ".join(counted)[:300] + "); no per-case tags")
    else:
        run.counting = "none"
    run.suite = (", ".join(groups) + ": " if groups else "") + ", ".join(tasks)
    run.suite = run.suite[:200] or "lm-eval"
    run.model_id = _model(doc)
    run.model_version = _revision(doc)
    run.run_at = parse_time(doc.get("date"))
    version = doc.get("lm_eval_version")
    if version:
        run.notes.append(f"lm-eval {text_of(version)}")
    return run


def _countable(metrics: dict):
    """The task's first per-document 0/1 metric as (key, value), or None."""
    for key, value in metrics.items():
        if key in _META_KEYS or "stderr" in key:
            continue
        if metric_name(key) in COUNTABLE_METRICS:
            return key, value
    return None


def _is_path(name: str) -> bool:
    """A local path rather than a model's name (``/models/llama-7b``, ``./ckpt``, ``C:\\m``)."""
    return name.startswith(("/", "./", "../", "~")) or "\\" in name or name.count("/") > 1


def _model(doc: dict) -> str:
    """The model's name: ``model_name``, unless it is a local path and ``model_args`` names the
    model (``pretrained=…``); a path left alone is cut to its last part."""
    name = text_of(doc.get("model_name"))
    from_args = _model_arg(dig(doc, "config", "model_args"))
    for candidate in (name, from_args):
        if candidate and not _is_path(candidate):
            return candidate
    chosen = name or from_args or text_of(dig(doc, "config", "model"))
    if _is_path(chosen):
        chosen = re.split(r"[\\/]", chosen.rstrip("/\\"))[-1] or chosen
    return chosen[:200]


def _model_arg(args) -> str:
    if isinstance(args, dict):
        return text_of(args.get("pretrained") or args.get("model"))
    if isinstance(args, str):
        found = re.search(r"(?:^|,)\s*(?:pretrained|model)=([^,]+)", args)
        if found:
            return found.group(1).strip()[:200]
    return ""


def _revision(doc: dict) -> str:
    args = dig(doc, "config", "model_args")
    if isinstance(args, dict):
        return text_of(args.get("revision"), 80)
    if isinstance(args, str):
        found = re.search(r"(?:^|,)\s*revision=([^,]+)", args)
        if found:
            return found.group(1).strip()[:80]
    return ""


def parse_samples(rows: Iterable[tuple[int, dict]], filename: str = "") -> ParsedRun:
    run = ParsedRun(format=FORMAT_SAMPLES)
    tally = Tally()
    _add_samples(tally, rows)
    tally.into(run)
    run.suite = _task_from_filename(filename) or "lm-eval samples"
    return run


def _add_samples(tally: Tally, rows: Iterable[tuple[int, dict]], where: str = "") -> int:
    """Count each sample line into ``tally``; the number of lines counted."""
    counted = 0
    for line, row in rows:
        if not looks_like_sample(row):
            raise ParseError("the line is not an lm-eval sample (no doc_id and doc)", f"{where}line {line}")
        metric = _sample_metric(row, f"{where}line {line}")
        value = row[metric]
        number = finite(value)
        if number is None and not isinstance(value, bool):
            raise ParseError(f"the metric {metric} is {_kind(value)}, not a number",
                             f"{where}line {line}, key {metric}")
        status = "passed" if value is True or number == 1.0 else "failed"
        doc = row.get("doc") if isinstance(row.get("doc"), dict) else {}
        tags = clean_tags(doc.get("tags", doc.get("tag")))
        edge = is_edge_metadata(doc)
        tally.add(status, tags, edge, case=lambda row=row, doc=doc, metric=metric, line=line: {
            "id": text_of(doc.get("id")) or f"doc {row.get('doc_id')} ({where}line {line})",
            "input": dig(row, "arguments", "gen_args_0", "arg_0") or doc,
            "expected": row.get("target"),
            "output": row.get("filtered_resps", row.get("resps")),
            "reason": f"{metric} = {text_of(row.get(metric), 40)}",
        })
        counted += 1
    return counted


class NotCountable(ParseError):
    """Samples scored only by metrics that are not per-document 0/1 (BLEU, F1 …)."""


def _sample_metric(row: dict, where: str) -> str:
    """The sample's first per-document 0/1 metric (from its ``metrics`` list, else the usual
    names); NotCountable when it lists only other metrics."""
    names = row.get("metrics")
    names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
    metric = next((n for n in names if n in COUNTABLE_METRICS and n in row), None)
    if metric is None and names:
        listed = ", ".join(names[:3])[:60]
        raise NotCountable(f"lm-eval samples scored by {listed}: not a pass or fail per case (attach "
                           "the results JSON for its headline metrics)", where)
    if metric is None:
        metric = next((k for k in ("acc", "exact_match", "acc_norm") if k in row), None)
    if metric is None:
        raise ParseError("the sample has no metric value to decide pass or fail", where)
    return metric


def _kind(value) -> str:
    """What a value is, in words, never the value itself (a refusal must not echo the data)."""
    if value is None:
        return "empty"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "text"
    return "not a finite number"


# ------------------------------------------------------------------ results + samples together
def looks_like_bundle(infos: dict) -> bool:
    """A zip holding a results JSON and per-sample JSONL files (what ``--output_path`` gets)."""
    names = [name for name in infos if not _hidden(name)]
    return any(n.endswith(".json") for n in names) and any(n.endswith(".jsonl") for n in names)


def _hidden(name: str) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in name.split("/"))


def parse_bundle(data: bytes, limits: Limits, infos: dict) -> ParsedRun:
    """One lm-eval run from its results JSON (headline metrics, model, tasks) and its samples
    JSONL files (per-case pass/fail, tags, edge cases): the totals are the samples' own."""
    reader = MemberReader(data, limits)
    results = []
    for name in sorted(n for n in infos if n.endswith(".json") and not _hidden(n)):
        doc = reader.json(infos[name])
        if looks_like_results(doc):
            results.append((name, doc))
    if not results:
        raise ParseError("the archive holds samples JSONL but no lm-evaluation-harness results JSON "
                         "(results_<date>.json)")
    if len(results) > 1:
        raise ParseError(f"the archive holds {len(results)} lm-eval results files "
                         f"({', '.join(name for name, _doc in results)}): attach one run at a time")
    results_name, doc = results[0]
    run = parse_results(doc)
    run.format = FORMAT_BUNDLE
    reported = {task for task, metrics in doc["results"].items() if isinstance(metrics, dict)}
    tally, counted, uncounted = Tally(), [], []
    for name in sorted(n for n in infos if n.endswith(".jsonl") and not _hidden(n)):
        where = f"zip member {name}, "
        task = _task_from_filename(name)
        if task and task not in reported:
            raise ParseError(f"this samples file is for task {task!r}, which the results file {results_name} "
                             f"does not report ({', '.join(sorted(reported)) or 'no tasks'}): "
                             "are they from the same run?", f"zip member {name}")
        raw = reader.read(infos[name])
        check_depth(raw, where)
        try:
            rows = _add_samples(tally, json_lines(raw, where), where)
        except NotCountable:
            uncounted.append(task or name)
            continue
        expected = dig(doc, "n-samples", task, "effective") if task else None
        if isinstance(expected, int) and expected != rows:
            run.notes.append(f"{name}: {rows} samples, the results file counts {expected}")
        counted.append(f"{task or name} ({rows})")
    if uncounted:
        run.notes.append("samples without a pass or fail per case (headline metrics only): "
                         + ", ".join(uncounted)[:300])
    if not counted:
        return run  # the results file's own counts (stated, or none)
    tally.into(run)
    run.counting = "cases"
    run.notes = [note for note in run.notes if not note.startswith("counts from per-document")]
    run.notes.append(f"per-case results from {len(counted)} samples file{'s' if len(counted) != 1 else ''}: "
                     + ", ".join(counted))
    return run


def _task_from_filename(filename: str) -> str:
    base = filename.rsplit("/", 1)[-1]
    found = re.match(r"samples_(.+?)_\d{4}-\d\d-\d\dT", base) or re.search(r"samples\.(.+?)\.jsonl$", base)
    return found.group(1)[:200] if found else ""
