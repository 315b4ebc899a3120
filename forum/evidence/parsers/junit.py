"""JUnit XML, as written by ``pytest --junitxml`` (xunit1 and xunit2), promptfoo's
``-o results.junit.xml`` and most test runners.

``<testsuites>`` (optional) holds ``<testsuite>`` elements (one or several; they may nest),
each with ``<properties>`` and ``<testcase>`` elements. A testcase with a ``<failure>`` child is
failed, ``<error>`` errored, ``<skipped>`` skipped, otherwise passed (when a testcase has several
of these, the later in that order wins, as in the counting convention of the samples).

Tags come from the testcase properties ``category`` (pytest's ``record_property``) and ``tags``
/ ``tag`` (comma- or semicolon-separated), and from ``@word``s in the test's name (Playwright's
tag syntax). A testcase is an edge case when a tag or a property named in ``edge_markers``
(forum/evidence/thresholds.json) carries an edge-case value. The model is the ``model`` property of the testcases (or of the
suite); the model version is the ``model_version`` property.

Parsed with defusedxml, streamed (iterparse), refusing any DTD: no entity expansion (billion
laughs) and no external entities. The count attributes (tests, failures, errors, skipped) must
be whole numbers ≥ 0 when present; the totals are counted from the testcases themselves.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from xml.etree.ElementTree import ParseError as XMLSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from forum.evidence.parsers.fields import count, parse_time, text_of
from forum.evidence.parsers.result import ParsedRun, ParseError
from forum.evidence.parsers.tally import Tally, is_edge_metadata, is_edge_tag

FORMAT = "junit"
ROOTS = ("testsuites", "testsuite")
_COUNT_ATTRS = ("tests", "failures", "errors", "skipped", "disabled")
NEWLINE = b"\n"
_OUTCOMES = (("failure", "failed"), ("error", "errored"), ("skipped", "skipped"))
_TITLE_TAG = re.compile(r"(?<![\w@])@([A-Za-z][\w.-]{0,79})")  # Playwright's tags: "checkout @edge-case @slow"


class NotJUnit(Exception):
    """The XML is well-formed but its root is not <testsuites> or <testsuite>."""

    def __init__(self, root: str):
        super().__init__(root)
        self.root = root


def parse(data: bytes) -> ParsedRun:
    run = ParsedRun(format=FORMAT)
    tally = Tally()
    suites: list[dict] = []  # the stack of open <testsuite> elements
    names: list[tuple[str, str]] = []  # (name, hostname) of each <testsuite>, in order
    models: Counter = Counter()
    versions: Counter = Counter()
    suite_props: dict[str, str] = {}
    root_name = ""
    path: list = []  # the stack of open elements
    try:
        for event, elem in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if not path:
                    if elem.tag not in ROOTS:
                        raise NotJUnit(elem.tag)
                    root_name = text_of(elem.get("name"))
                if elem.tag in ROOTS:
                    _check_counts(elem)
                    if elem.tag == "testsuite":
                        suites.append({"name": text_of(elem.get("name")), "at": elem.get("timestamp")})
                        names.append((suites[-1]["name"], text_of(elem.get("hostname"), 80)))
                        if run.run_at is None:
                            run.run_at = parse_time(elem.get("timestamp"))
                path.append(elem)
                continue
            path.pop()
            if elem.tag == "property" and len(path) >= 2 and path[-2].tag in ROOTS:
                name, value = text_of(elem.get("name")), text_of(elem.get("value"))
                suite_props.setdefault(name, value)
            elif elem.tag == "testcase":
                _testcase(elem, suites, tally, models, versions)
                if path:
                    path[-1].remove(elem)
            elif elem.tag == "testsuite":
                suites.pop()
    except NotJUnit:
        raise
    except DefusedXmlException as exc:
        raise ParseError(
            "XML with a document type declaration or entities is refused (entity expansion and "
            "external entities are not allowed in evidence files)", _line_of(data, rb"<!DOCTYPE|<!ENTITY"),
        ) from exc
    except XMLSyntaxError as exc:
        line, column = exc.position
        raise ParseError(f"malformed XML: {_reason(exc)}", f"line {line}, column {column}") from exc
    tally.into(run)
    if suite_props.get("model"):
        models.setdefault(suite_props["model"], 0)
    run.model_id = (models.most_common(1)[0][0] if models else "")[:200]
    run.model_version = (suite_props.get("model_version") or
                         (versions.most_common(1)[0][0] if versions else ""))[:80]
    labels = suite_labels(names)
    run.suite = (labels[0] if len(labels) == 1 else root_name or ", ".join(labels))[:200]
    run.suite = run.suite or "JUnit"
    if len(names) > 1:
        run.notes.append(f"{len(names)} test suites: {', '.join(labels)}"[:500])
    return run


def suite_labels(names: list[tuple[str, str]]) -> list[str]:
    """One label per suite: suites that share a name are told apart by their ``hostname``
    (where Playwright writes the project) when that differs, else numbered: ``x``, ``x (2)``."""
    groups: dict[str, list[str]] = {}
    for name, host in names:
        groups.setdefault(name, []).append(host)
    labels, seen = [], Counter()
    for name, host in names:
        hosts = groups[name]
        seen[name] += 1
        if len(hosts) == 1:
            labels.append(name)
        elif len(set(hosts)) == len(hosts) and all(hosts):
            labels.append(f"{name} [{host}]")
        else:
            labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def _check_counts(elem) -> None:
    for attr in _COUNT_ATTRS:
        value = elem.get(attr)
        if value is not None:
            where = f'<{elem.tag} name="{text_of(elem.get("name"), 80)}"> attribute {attr}'
            count(value.strip(), where)


def _testcase(elem, suites, tally: Tally, models: Counter, versions: Counter) -> None:
    status, outcome = "passed", None
    for child_tag, name in _OUTCOMES:
        child = elem.find(child_tag)
        if child is not None:
            status, outcome = name, child
    props: dict[str, str] = {}
    for prop in elem.iterfind("properties/property"):
        props.setdefault(text_of(prop.get("name")), text_of(prop.get("value")))
    tags = []
    if props.get("category"):
        tags.append(props["category"])
    for key in ("tags", "tag"):
        for tag in re.split(r"[,;]", props.get(key, "")):
            tag = tag.strip()[:80]
            if tag and tag not in tags:
                tags.append(tag)
    for tag in _TITLE_TAG.findall(text_of(elem.get("name"))):  # Playwright's "@tag" in the title
        if tag not in tags and len(tags) < 50:
            tags.append(tag[:80])
    edge = any(is_edge_tag(t) for t in tags) or is_edge_metadata(props)
    if props.get("model"):
        models[props["model"]] += 1
    if props.get("model_version"):
        versions[props["model_version"]] += 1
    classname, name = elem.get("classname") or "", elem.get("name") or ""

    def case():
        return {
            "id": f"{classname}::{name}" if classname else name,
            "input": props.get("input"),
            "expected": props.get("expected"),
            "output": (outcome.text or "").strip() if outcome is not None else None,
            "reason": outcome.get("message") if outcome is not None else None,
        }

    tally.add(status, tags, edge, case=case)


def _line_of(data: bytes, pattern: bytes) -> str | None:
    found = re.search(pattern, data)
    if found is None:
        return None
    return f"line {data.count(NEWLINE, 0, found.start()) + 1}"


def _reason(exc: XMLSyntaxError) -> str:
    return re.sub(r":\s*line \d+, column \d+$", "", str(exc))
