""".NET test reports: NUnit 3's ``<test-run>`` result XML (nunit3-console, ``dotnet test`` with
the NUnit logger) and the Visual Studio ``.trx`` file that MSTest, xUnit and NUnit write through
``dotnet test --logger trx``. Counted by the same rules as JUnit: one case per test result.

NUnit 3: every ``<test-case>``, wherever its suites nest. ``result`` Passed (or Warning) →
passed; Failed → failed, or errored when its ``label`` is Error, Invalid or Cancelled; Skipped
and Inconclusive → skipped. Tags are its ``Category`` properties; the run time is the
``<test-run start-time>``; the suite is the assembly's name.

TRX: every ``<UnitTestResult>``. ``outcome`` Passed (or PassedButRunAborted, Warning) →
passed; Failed → failed; Error, Timeout, Aborted → errored; anything else (NotExecuted,
Inconclusive …) → skipped. Tags are the test's ``TestCategoryItem`` values in
``<TestDefinitions>``, joined by ``testId`` (definitions follow the results, so results are
kept as small records until the end). The run time is ``<Times start>``; the suite is the test
assembly's name (``codeBase``).

In both, a case is an edge case when a tag (or a property named in ``edge_markers``) carries an
edge-case value. The header counts are not trusted: the totals are counted from the cases (a
real TRX leaves skipped tests out of ``notExecuted``). Parsed with defusedxml, streamed, no DTD.
"""

from __future__ import annotations

import io
import re
from xml.etree.ElementTree import ParseError as XMLSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from forum.evidence.parsers.fields import parse_time, text_of
from forum.evidence.parsers.result import ParsedRun, ParseError
from forum.evidence.parsers.tally import Tally, is_edge_metadata, is_edge_tag

FORMAT_NUNIT = "nunit"
FORMAT_TRX = "trx"
TRX_NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
ROOTS = {"test-run": FORMAT_NUNIT, f"{TRX_NS}TestRun": FORMAT_TRX}

_NUNIT_ERROR_LABELS = {"error", "invalid", "cancelled"}
_TRX_STATUS = {"passed": "passed", "passedbutrunaborted": "passed", "warning": "passed", "failed": "failed",
               "error": "errored", "timeout": "errored", "aborted": "errored"}
MAX_CASE_TEXT = 2000


def is_dotnet_root(tag: str) -> bool:
    return tag in ROOTS


def parse(data: bytes) -> ParsedRun:
    """Read an NUnit 3 or TRX report (``is_dotnet_root`` said yes to its root)."""
    try:
        events = iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
        _event, root = next(events)
        if ROOTS.get(root.tag) == FORMAT_NUNIT:
            return _nunit(root, events)
        return _trx(root, events)
    except DefusedXmlException as exc:
        raise ParseError("XML with a document type declaration or entities is refused (entity expansion and "
                         "external entities are not allowed in evidence files)") from exc
    except XMLSyntaxError as exc:
        line, column = exc.position
        reason = re.sub(r":\s*line \d+, column \d+$", "", str(exc))
        raise ParseError(f"malformed XML: {reason}", f"line {line}, column {column}") from exc


def _message(elem, *path: str) -> str | None:
    found = elem.find("/".join(path))
    return (found.text or "").strip()[:MAX_CASE_TEXT] if found is not None and found.text else None


# ------------------------------------------------------------------------------------ NUnit 3
def _nunit(root, events) -> ParsedRun:
    run = ParsedRun(format=FORMAT_NUNIT)
    run.run_at = parse_time(root.get("start-time"))
    tally = Tally()
    assemblies: list[str] = []
    depth = 0
    for event, elem in events:
        if elem.tag == "test-suite" and event == "start":
            depth += 1
            if elem.get("type") == "Assembly" or (depth == 1 and not assemblies):
                assemblies.append(text_of(elem.get("name")))
        elif elem.tag == "test-suite":
            depth -= 1
            elem.clear()
        elif elem.tag == "test-case" and event == "end":
            _nunit_case(elem, tally)
            elem.clear()
    tally.into(run)
    run.suite = (", ".join(dict.fromkeys(a for a in assemblies if a)) or "NUnit")[:200]
    return run


def _nunit_case(elem, tally: Tally) -> None:
    result, label = (elem.get("result") or "").lower(), (elem.get("label") or "").lower()
    if result in ("passed", "warning"):
        status = "passed"
    elif result == "failed":
        status = "errored" if label in _NUNIT_ERROR_LABELS else "failed"
    else:
        status = "skipped"
    props: dict[str, str] = {}
    tags: list[str] = []
    for prop in elem.iterfind("properties/property"):
        name, value = text_of(prop.get("name")), text_of(prop.get("value"), 80)
        props.setdefault(name, value)
        if name.lower() == "category" and value and value not in tags:
            tags.append(value)
    edge = any(is_edge_tag(t) for t in tags) or is_edge_metadata(props)
    name = text_of(elem.get("fullname") or elem.get("name"), 300)
    failure = "failure" if status in ("failed", "errored") else "reason"

    def case():
        return {"id": name, "input": None, "expected": None,
                "output": _message(elem, failure, "stack-trace"), "reason": _message(elem, failure, "message")}

    tally.add(status, tags, edge, case=case)


# ----------------------------------------------------------------------------------------- TRX
def _trx(root, events) -> ParsedRun:
    run = ParsedRun(format=FORMAT_TRX)
    results: list[tuple[str, str, str, str | None, str | None]] = []  # testId, status, name, reason, output
    categories: dict[str, list[str]] = {}
    assemblies: list[str] = []
    for event, elem in events:
        if event != "end":
            continue
        tag = elem.tag.removeprefix(TRX_NS)
        if tag == "Times" and run.run_at is None:
            run.run_at = parse_time(elem.get("start"))
        elif tag == "UnitTestResult":
            status = _TRX_STATUS.get((elem.get("outcome") or "").lower(), "skipped")
            keep = status in ("failed", "errored")
            results.append((text_of(elem.get("testId"), 100), status, text_of(elem.get("testName"), 300),
                            _message(elem, f"{TRX_NS}Output", f"{TRX_NS}ErrorInfo", f"{TRX_NS}Message") if keep else None,
                            _message(elem, f"{TRX_NS}Output", f"{TRX_NS}ErrorInfo", f"{TRX_NS}StackTrace") if keep else None))
            elem.clear()
        elif tag == "UnitTest":
            test_id = text_of(elem.get("id"), 100)
            found = [text_of(item.get("TestCategory"), 80)
                     for item in elem.iterfind(f"{TRX_NS}TestCategory/{TRX_NS}TestCategoryItem")]
            if found:
                categories[test_id] = [c for c in dict.fromkeys(found) if c]
            method = elem.find(f"{TRX_NS}TestMethod")
            if method is not None and method.get("codeBase"):
                assemblies.append(text_of(method.get("codeBase").replace("\\", "/").rsplit("/", 1)[-1]))
            elem.clear()
    tally = Tally()
    for test_id, status, name, reason, output in results:
        tags = categories.get(test_id, [])
        tally.add(status, tags, any(is_edge_tag(t) for t in tags),
                  case=lambda name=name, reason=reason, output=output:
                  {"id": name, "input": None, "expected": None, "output": output, "reason": reason})
    tally.into(run)
    run.suite = (", ".join(dict.fromkeys(a for a in assemblies if a)) or "TRX")[:200]
    return run
