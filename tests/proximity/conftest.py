"""Proximity fixtures: the agenda's people and factories, and evidence runs built from small
CSV tables with known failing cases (edge and not), attached through the evidence service."""

from __future__ import annotations

import csv
import io

import pytest

from forum.evidence import service as evidence
from tests.agenda.conftest import cfo, chair, decide, entry_of, filer, make_meeting, owner  # noqa: F401


def results_csv(rows: list[tuple], suite: str = "support") -> bytes:
    """rows: (case id, passed?, edge?, input, output) → an evidence CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["case_id", "passed", "category", "suite", "input", "expected", "output", "reason"])
    for case_id, passed, edge, text, output in rows:
        writer.writerow([case_id, "pass" if passed else "fail", "edge-case" if edge else "", suite, text,
                         "the right answer", output, "" if passed else f"{case_id} was wrong"])
    return out.getvalue().encode()


@pytest.fixture
def attach(db_session):
    def do(item, by, rows, suite: str = "support"):
        run = evidence.attach_evidence(db_session, by, item, f"{suite}.csv", results_csv(rows, suite))
        db_session.commit()
        return run

    return do


MIXED = [
    ("ok-1", True, False, "hello", "hi"),
    ("plain-fail", False, False, "refund 20 EUR", "no refunds"),
    ("edge-fail", False, True, "refund 20 € but half in store credit", "full refund"),
    ("edge-ok", True, True, "mixed-language ticket", "ok"),
]
