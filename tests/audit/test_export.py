"""Exports: JSON Lines and CSV, whole or filtered, streamed, named by range and head hash; the
round trip export → `forum trail verify --file`."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from forum.trail import chain
from forum.trail.service import export_jsonl, record

EXPORT_FIELDS = {"seq", "at", "actor", "kind", "subject", "data", "prev_hash", "hash"}


@pytest.fixture
def reader(client, login, auditor):
    login(auditor)
    return auditor


def filename_of(response) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    return re.search(r'filename="([^"]+)"', disposition).group(1)


def test_whole_trail_as_json_lines_is_streamed_complete_and_verifies(client, reader, notes, db_session):
    notes(30)

    response = client.get("/trail/export.jsonl")

    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/x-ndjson"
    links = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert all(set(link) == EXPORT_FIELDS for link in links)
    head = links[-1]
    assert [link["seq"] for link in links] == list(range(1, head["seq"] + 1))
    assert filename_of(response) == f"trail_seq1-{head['seq']}_head-{head['hash'][:8]}.jsonl"
    assert response.headers["X-Trail-Head"] == f"{head['seq']}:{head['hash']}"
    assert chain.verify_links(links).ok


def test_json_lines_export_is_what_the_cli_export_writes(client, reader, notes, db_session):
    notes(5, data={"city": "Zürich ✓", "n": 1})
    cli_export = io.StringIO()
    export_jsonl(db_session, cli_export)

    assert client.get("/trail/export.jsonl").get_data(as_text=True) == cli_export.getvalue()


def test_filtered_export_holds_only_matching_events_and_names_the_range(client, reader, db_session, notes):
    notes(3)
    kept = [record(db_session, None, "test.kept", "item:5", {"n": n}) for n in range(3)]
    db_session.commit()
    notes(2)

    response = client.get("/trail/export.jsonl?subject=item:5")

    header, *links = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert header["trail_export"]["filtered"] is True
    assert header["trail_export"]["filters"] == {"subject": "item:5"}
    assert response.headers["X-Trail-Filtered"] == "filters"
    assert [link["seq"] for link in links] == [e.seq for e in kept]
    name = filename_of(response)
    assert name.startswith(f"trail_filtered_seq{kept[0].seq}-{kept[-1].seq}_head-")
    assert name.endswith(".jsonl")


def test_an_empty_export_says_so_in_its_name(client, reader):
    response = client.get("/trail/export.csv?subject=nothing:here")
    assert response.status_code == 200
    assert re.fullmatch(r"trail_filtered_empty_head-[0-9a-f]{8}\.csv", filename_of(response))
    assert response.get_data(as_text=True).splitlines() == [",".join(
        ["seq", "at", "actor", "kind", "subject", "data", "prev_hash", "hash"])]


def test_csv_export_has_every_field_with_data_as_canonical_json(client, reader, db_session):
    event = record(db_session, None, "test.note", "item:1", {"b": "Zürich ✓", "a": [1, "x,y"]})
    db_session.commit()

    response = client.get("/trail/export.csv?subject=item:1")

    assert response.mimetype == "text/csv"
    assert filename_of(response).endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    row = rows[0]
    assert row["data"] == '{"a":[1,"x,y"],"b":"Zürich ✓"}'
    assert (int(row["seq"]), row["hash"], row["prev_hash"]) == (event.seq, event.hash, event.prev_hash)
    assert row["at"] == chain.format_at(event.at)


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_cells_that_start_like_formulas_are_quoted(client, reader, db_session, start):
    record(db_session, f"{start}cmd|' /C calc'!A0", "test.note", f"{start}HYPERLINK(1)", {})
    db_session.commit()

    rows = list(csv.DictReader(io.StringIO(client.get("/trail/export.csv").get_data(as_text=True))))

    row = rows[-1]
    assert row["actor"] == f"'{start}cmd|' /C calc'!A0"
    assert row["subject"] == f"'{start}HYPERLINK(1)"


def test_export_refuses_bad_filters(client, reader):
    response = client.get("/trail/export.jsonl?date_from=31.12.2030")
    assert response.status_code == 400
    assert "From: Not a valid date value." in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_may_not_export(client, login, make_user, role):
    login(make_user(role))
    assert client.get("/trail/export.jsonl").status_code == 403
    assert client.get("/trail/export.csv").status_code == 403


def test_export_round_trip_verifies_and_a_flipped_byte_names_its_seq(client, reader, notes, cli, tmp_path):
    notes(12, data={"text": "Zürich ✓ quarterly review"})
    export = tmp_path / "trail.jsonl"
    export.write_bytes(client.get("/trail/export.jsonl").get_data())

    passed = cli("trail", "verify", "--file", str(export))

    assert passed.exit_code == 0, passed.output
    assert passed.output.startswith("OK: ")

    lines = export.read_bytes().split(b"\n")
    number = 7  # line 7 holds seq 7
    assert json.loads(lines[number - 1])["seq"] == number
    position = lines[number - 1].index(b"quarterly")
    flipped = bytearray(lines[number - 1])
    flipped[position] ^= 0x01  # 'q' becomes 'p': still valid JSON, different content
    lines[number - 1] = bytes(flipped)
    export.write_bytes(b"\n".join(lines))

    failed = cli("trail", "verify", "--file", str(export))

    assert failed.exit_code == 1
    assert f"BROKEN at seq {number}: hash does not match" in failed.output
    assert f"{number - 1} events checked before the break" in failed.output


def test_a_byte_flip_that_breaks_the_json_still_names_the_seq(client, reader, notes, cli, tmp_path):
    notes(5)
    lines = client.get("/trail/export.jsonl").get_data().split(b"\n")
    lines[2] = lines[2].replace(b"{", b"[", 1)  # line 3 (seq 3) is no longer a JSON object
    export = tmp_path / "broken.jsonl"
    export.write_bytes(b"\n".join(lines))

    failed = cli("trail", "verify", "--file", str(export))

    assert failed.exit_code == 1
    assert "BROKEN at seq 3: line 3 is not a JSON line" in failed.output


def test_export_gives_its_connection_back_when_done_or_abandoned(app, client, reader, notes):
    from forum.core import db

    notes(5)
    pool = db.get_engine(app).pool

    client.get("/trail/export.jsonl").get_data()
    assert pool.checkedout() == 0

    response = client.get("/trail/export.csv", buffered=False)
    next(iter(response.response))  # the client reads a little, then goes away
    assert pool.checkedout() == 1
    response.close()
    assert pool.checkedout() == 0
