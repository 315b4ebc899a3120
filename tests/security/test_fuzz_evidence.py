"""Property-based fuzzing of the evidence parsers and of the upload service.

Whatever bytes arrive — random, or shaped like one of the supported formats but wrong inside —
``forum.evidence.parsers.parse`` either returns a ParsedRun whose counts add up, or refuses the
file with its documented error (ParseError, of which UnknownFormat and TooLarge are kinds) saying
what is wrong. Any other exception is a bug. Through the upload service, a refused file leaves
no evidence run and no trail event behind; an accepted one leaves exactly one of each.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from forum.evidence import service as evidence
from forum.evidence.models import EvidenceRun
from forum.evidence.parsers import STATUSES, Limits, ParsedRun, ParseError, TooLarge, UnknownFormat, parse
from forum.trail.models import Event
from tests.evidence.conftest import make_zip

FIXTURES = Path(__file__).resolve().parent.parent / "evidence" / "fixtures"
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.is_file())
SMALL_FIXTURES = [n for n in FIXTURE_NAMES if (FIXTURES / n).stat().st_size <= 200_000]
FUZZ = settings(max_examples=40, deadline=None)

# --------------------------------------------------------------------------------- strategies
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["C", "I", "passed", "failed", "edge-case", "edge", "", "NaN", "-1", "1e309"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(
            ["results", "stats", "success", "score", "tags", "metadata", "error", "scores", "value",
             "n-samples", "effective", "configs", "doc_id", "doc", "testCase", "vars", "eval",
             "task", "model", "samples", "difficulty", "category", "gradingResult", "metrics"])),
            inner, max_size=5),
    ),
    max_leaves=12,
)
# JSON shaped like each supported tool's output, with the insides left to chance.
promptfoo_docs = st.fixed_dictionaries({"results": st.fixed_dictionaries(
    {"results": st.lists(json_values, max_size=4)}, optional={"stats": json_values, "version": json_values})})
promptfoo_rows = st.fixed_dictionaries({"success": json_values, "testCase": json_values},
                                       optional={"score": json_values, "gradingResult": json_values})
inspect_docs = st.fixed_dictionaries(
    {"eval": st.fixed_dictionaries({"task": json_values}, optional={"model": json_values, "metadata": json_values})},
    optional={"samples": json_values, "results": json_values, "status": json_values},
)
lm_eval_docs = st.fixed_dictionaries(
    {"results": json_values},
    optional={"n-samples": json_values, "configs": json_values, "versions": json_values,
              "model_name": json_values, "config": json_values},
)
lm_eval_rows = st.fixed_dictionaries({"doc_id": json_values, "doc": json_values},
                                     optional={"metrics": json_values, "acc": json_values, "target": json_values})


def dumps(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def json_lines(rows: list) -> bytes:
    return b"\n".join(dumps(row) for row in rows) + b"\n"


xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=15)
xml_attr_names = st.sampled_from(["name", "tests", "failures", "errors", "skipped", "time", "classname",
                                  "timestamp", "message", "type", "value"])


@st.composite
def junit_documents(draw) -> bytes:
    """<testsuites>/<testsuite> documents with random attributes, children and properties."""
    from xml.sax.saxutils import escape, quoteattr

    def attrs() -> str:
        pairs = draw(st.dictionaries(xml_attr_names, st.one_of(xml_text, st.integers(-5, 10**12).map(str)), max_size=4))
        return "".join(f" {k}={quoteattr(v)}" for k, v in pairs.items())

    def testcase() -> str:
        kids = draw(st.lists(st.sampled_from(["failure", "error", "skipped", "system-out", "properties"]), max_size=3))
        inner = ""
        for kid in kids:
            if kid == "properties":
                inner += "<properties>" + "".join(
                    f"<property name={quoteattr(n)} value={quoteattr(v)}/>"
                    for n, v in draw(st.lists(st.tuples(st.sampled_from(["category", "tags", "tag", "edge"]), xml_text), max_size=3))
                ) + "</properties>"
            else:
                inner += f"<{kid}{attrs()}>{escape(draw(xml_text))}</{kid}>"
        return f"<testcase{attrs()}>{inner}</testcase>"

    def suite(depth: int) -> str:
        children = [testcase() for _ in range(draw(st.integers(0, 3)))]
        if depth < 2 and draw(st.booleans()):
            children.append(suite(depth + 1))
        return f"<testsuite{attrs()}>{''.join(children)}</testsuite>"

    suites = "".join(suite(0) for _ in range(draw(st.integers(1, 2))))
    body = f"<testsuites{attrs()}>{suites}</testsuites>" if draw(st.booleans()) else suite(0)
    prolog = draw(st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n', "\ufeff"]))
    return (prolog + body).encode()


CSV_COLUMNS = ["case_id", "id", "passed", "status", "result", "tags", "category", "input", "expected",
               "output", "reason", "model", "model_version", "suite", "score", "run_at", "junk"]


@st.composite
def csv_tables(draw) -> bytes:
    required = draw(st.sampled_from([["case_id", "passed"], ["id", "status"], []]))
    columns = required + draw(st.lists(st.sampled_from(CSV_COLUMNS), min_size=1 - min(len(required), 1), max_size=5))
    columns = draw(st.permutations(columns))
    cell = st.one_of(st.sampled_from(["true", "false", "pass", "FAIL", "error", "skip", "1", "0", "edge-case",
                                      "", "yes", "n/a", "2026-01-01T00:00:00Z"]), st.text(max_size=12))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(columns)
    for _ in range(draw(st.integers(0, 5))):
        width = draw(st.sampled_from([len(columns), len(columns), len(columns) - 1, len(columns) + 1]))
        writer.writerow([draw(cell) for _ in range(max(width, 0))])
    return out.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def eval_zips(draw) -> bytes:
    """.eval-like archives: header.json and friends with wrong insides, in each compression."""
    members: dict[str, bytes] = {}
    if draw(st.booleans()):
        members["header.json"] = dumps(draw(st.one_of(inspect_docs, json_values)))
    if draw(st.booleans()):
        members["summaries.json"] = dumps(draw(st.lists(json_values, max_size=3)))
    for n in range(draw(st.integers(0, 2))):
        members[f"samples/{n}_epoch_1.json"] = draw(st.one_of(st.binary(max_size=40), json_values.map(dumps)))
    if not members:
        members["readme.txt"] = draw(st.binary(max_size=20))
    if draw(st.booleans()):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as z:
            for name, content in members.items():
                z.writestr(name, content)
        data = buffer.getvalue()
    else:
        data = make_zip(members, method=draw(st.sampled_from([0, 8, 93])))
    if draw(st.booleans()):  # cut or damage the archive somewhere
        cut = draw(st.integers(4, max(4, len(data))))
        data = data[:cut]
    return data


@st.composite
def damaged_fixtures(draw) -> bytes:
    """A real result file, cut short or with a few bytes changed."""
    data = bytearray((FIXTURES / draw(st.sampled_from(SMALL_FIXTURES))).read_bytes())
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(0, 4))):
        data[rng.randrange(len(data))] = rng.randrange(256)
    if draw(st.booleans()):
        data = data[: draw(st.integers(1, len(data)))]
    return bytes(data)


arbitrary_bytes = st.one_of(
    st.binary(max_size=600),
    st.tuples(st.sampled_from([b"PK\x03\x04", b"<", b"{", b"[", b"\xef\xbb\xbf", b"\xef\xbb\xbf<", b" \n{"]),
              st.binary(max_size=300)).map(lambda t: t[0] + t[1]),
)
structured_but_wrong = st.one_of(
    promptfoo_docs.map(dumps), inspect_docs.map(dumps), lm_eval_docs.map(dumps), json_values.map(dumps),
    st.lists(promptfoo_rows, min_size=2, max_size=4).map(json_lines),
    st.lists(lm_eval_rows, min_size=2, max_size=4).map(json_lines),
    junit_documents(), csv_tables(), eval_zips(), damaged_fixtures(),
)


# ------------------------------------------------------------------------------------- checks
def check_outcome(data: bytes, limits: Limits | None = None) -> ParsedRun | ParseError:
    """Parse; a refusal must be the documented error type, carrying a message; a parsed run
    must have counts that add up. Any other exception propagates and fails the test."""
    try:
        run = parse(data, "fuzz", limits)
    except ParseError as error:
        assert error.message.strip(), "a refusal must say what is wrong"
        assert error.status in (400, 413)
        return error
    assert isinstance(run, ParsedRun)
    for status in STATUSES:
        assert getattr(run, status) >= 0
    assert 0 <= run.edge_passed + run.edge_skipped <= run.edge_total <= run.total
    for counts in run.tags.values():
        assert set(counts) == set(STATUSES) and all(n >= 0 for n in counts.values())
    assert run.pass_rate is None or 0 <= run.pass_rate <= 1
    assert len(run.failing_cases) <= 20
    return run


@FUZZ
@given(data=arbitrary_bytes)
def test_arbitrary_bytes_parse_or_are_refused_with_the_parse_error(data):
    check_outcome(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=structured_but_wrong)
def test_files_shaped_like_a_format_but_wrong_inside_parse_or_are_refused(data):
    check_outcome(data)


@FUZZ
@given(doc=st.one_of(promptfoo_docs, inspect_docs, lm_eval_docs))
def test_json_without_a_known_shape_is_refused_as_unknown_format_or_parsed(doc):
    outcome = check_outcome(dumps(doc))
    if isinstance(outcome, UnknownFormat):
        assert outcome.message.startswith("unknown format")


@FUZZ
@given(data=st.one_of(st.binary(min_size=1, max_size=200), structured_but_wrong))
def test_anything_over_the_size_limit_is_refused_as_too_large(data):
    assume(len(data.strip()) > 0)
    outcome = check_outcome(data, Limits(max_bytes=len(data) - 1))
    assert isinstance(outcome, TooLarge) and outcome.status == 413


def test_the_strategies_reach_both_outcomes():
    """The fuzzing is only worth something if it produces parsed runs as well as refusals."""
    parsed = refused = 0
    for name in SMALL_FIXTURES:
        outcome = check_outcome((FIXTURES / name).read_bytes())
        parsed += isinstance(outcome, ParsedRun)
        refused += isinstance(outcome, ParseError)
    assert parsed >= 5 and refused >= 1
    assert isinstance(check_outcome(b"case_id,passed\na,true\nb,false\n"), ParsedRun)
    assert isinstance(check_outcome(b"\x00\x01"), UnknownFormat)


# ------------------------------------------------------------------------ the upload service
def counts(session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(EvidenceRun)),
            session.scalar(select(func.count()).select_from(Event)))


@pytest.fixture
def open_item(make_user, make_item, db_session):
    filer = make_user(function="procurement", email="fuzz-filer@example.com")
    item = make_item(filer, status="open", title="Fuzzed evidence", model_version="1.0")
    db_session.commit()
    return filer, item


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(arbitrary_bytes, structured_but_wrong))
def test_a_refused_upload_leaves_no_run_and_no_event(db_session, open_item, data):
    filer, item = open_item
    runs_before, events_before = counts(db_session)
    try:
        run = evidence.attach_evidence(db_session, filer, item, "fuzz.bin", data)
    except evidence.EvidenceRefused as refusal:
        db_session.rollback()  # what the request boundary does on a 4xx
        assert refusal.status in (400, 413) and refusal.field == "file"
        assert counts(db_session) == (runs_before, events_before)
    else:
        db_session.commit()
        assert run.id is not None
        assert counts(db_session) == (runs_before + 1, events_before + 1)


def test_the_service_refuses_without_writing_even_before_a_rollback(db_session, open_item):
    """The refusal happens before anything is added to the session: nothing pending to flush."""
    filer, item = open_item
    before = counts(db_session)
    with pytest.raises(evidence.EvidenceRefused):
        evidence.attach_evidence(db_session, filer, item, "x.json", b'{"results": {"results": [1,]}}')
    assert not db_session.new and not db_session.dirty
    db_session.flush()
    assert counts(db_session) == before
