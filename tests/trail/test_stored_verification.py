"""The spliced body used to verify stored rows fast, and checkpoints in the chain check."""

from __future__ import annotations

import pytest

from forum.trail import chain
from tests.trail.test_chain import build_chain

TRICKY = [
    {},
    {"text": 'quote " backslash \\ newline \n tab \t nul \u0000 emoji 🙂 Zürich ✓'},
    {"nested": {"b": [1, 2.5, None, True, False], "a": {"kind": "x", "seq": 5}}},
    {"big": 10**20, "neg": -1, "float": 1e-7, "unicode_key_é": "\u2028"},
]


@pytest.mark.parametrize("data", TRICKY)
def test_link_body_equals_the_canonical_json_of_the_link(data):
    args = (7, "2026-01-02T03:04:05.000006Z", "ä@example.com", "item.updated", 'item:"42"')
    expected = chain.canonical_json(dict(zip(("seq", "at", "actor", "kind", "subject"), args), data=data))

    assert chain.link_body(*args, chain.canonical_json(data)) == expected


def test_link_body_refuses_a_seq_that_is_not_an_int():
    with pytest.raises(TypeError):
        chain.link_body(True, "t", "a", "k", "s", "{}")


def rows_of(links: list[dict]) -> list[tuple]:
    return [(link["seq"], link["at"], link["actor"], link["kind"], link["subject"],
             chain.canonical_json(link["data"]), link["prev_hash"], link["hash"]) for link in links]


def test_verify_stored_agrees_with_verify_links():
    links = build_chain(5)
    assert chain.verify_stored(rows_of(links)) == chain.verify_links(links)


def test_verify_stored_refuses_data_text_that_is_not_canonical():
    rows = rows_of(build_chain(3))
    seq, at, actor, kind, subject, data, prev, digest = rows[1]
    rows[1] = (seq, at, actor, kind, subject, data.replace(":", ": "), prev, digest)

    result = chain.verify_stored(rows)

    assert result.first_bad_seq == 2 and "altered" in result.problem


def test_verify_stored_reports_a_null_field():
    rows = rows_of(build_chain(3))
    rows[2] = (*rows[2][:2], None, *rows[2][3:])

    result = chain.verify_stored(rows)

    assert result.first_bad_seq == 3 and "no value" in result.problem


def test_verify_stored_converts_the_stored_time():
    links = build_chain(2)
    rows = [(r[0], "stored:" + r[1], *r[2:]) for r in rows_of(links)]
    assert chain.verify_stored(rows, at_text=lambda v: v.removeprefix("stored:")).ok


def test_checkpoints_are_ok_mismatched_missing_or_unchecked():
    links = build_chain(5)
    checks = [
        chain.CheckpointCheck(2, links[1]["hash"]),
        chain.CheckpointCheck(3, "0" * 64),
        chain.CheckpointCheck(9, links[4]["hash"]),
    ]
    result = chain.verify_links(links, checks)
    assert [c.status for c in result.checkpoints] == ["ok", "mismatch", "missing"]
    assert result.chain_ok and not result.ok
    assert result.checkpoints[1].found_hash == links[2]["hash"]

    links[1]["data"] = {"forged": True}
    broken = chain.verify_links(links, [chain.CheckpointCheck(4, links[3]["hash"])])
    assert broken.first_bad_seq == 2
    assert [c.status for c in broken.checkpoints] == ["unchecked"]


def test_an_unreadable_link_is_reported_at_the_expected_seq():
    links = [*build_chain(2), chain.UnreadableLink("line 3 is not a JSON line")]
    result = chain.verify_links(links)
    assert (result.first_bad_seq, result.problem) == (3, "line 3 is not a JSON line")


@pytest.mark.parametrize("text, seq", [("12:" + "A" * 64, 12), (" 3:" + "0" * 64 + " ", 3)])
def test_parse_checkpoint(text, seq):
    check = chain.parse_checkpoint(text)
    assert check.seq == seq and check.hash == text.strip().split(":")[1].lower()


@pytest.mark.parametrize("text", ["", "12", "a:" + "0" * 64, "0:" + "0" * 64, "-1:" + "0" * 64,
                                  "3:" + "0" * 63, "3:" + "z" * 64])
def test_parse_checkpoint_refuses_malformed_text(text):
    with pytest.raises(ValueError):
        chain.parse_checkpoint(text)
