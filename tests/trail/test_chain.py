"""The hash rule of docs/trail.md, checked without a database."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from forum.trail import chain

GENESIS = "0" * 64


def build_chain(count: int) -> list[dict]:
    """A valid chain of ``count`` links made with the module's own hash rule."""
    links, prev = [], GENESIS
    for seq in range(1, count + 1):
        link = {
            "seq": seq,
            "at": f"2026-01-02T03:04:{seq:02d}.000000Z",
            "actor": "staff@example.com",
            "kind": "item.updated",
            "subject": f"item:{seq}",
            "data": {"title": {"before": f"old {seq}", "after": "Zürich ✓"}},
            "prev_hash": prev,
        }
        link["hash"] = chain.link_hash(
            prev, seq, link["at"], link["actor"], link["kind"], link["subject"], link["data"]
        )
        prev = link["hash"]
        links.append(link)
    return links


def test_genesis_hash_is_64_zeros():
    assert chain.GENESIS_HASH == GENESIS


def test_link_hash_is_sha256_of_prev_hash_and_canonical_json():
    prev = "ab" * 32
    # Written out by hand: sorted keys, no spaces, non-ASCII characters kept as they are.
    body = (
        '{"actor":"risk@example.com","at":"2026-01-02T03:04:05.000006Z",'
        '"data":{"city":"Zürich ✓","limit":[1,2.5,null,true]},'
        '"kind":"item.created","seq":7,"subject":"item:42"}'
    )
    expected = hashlib.sha256((prev + body).encode("utf-8")).hexdigest()

    actual = chain.link_hash(
        prev, 7, "2026-01-02T03:04:05.000006Z", "risk@example.com", "item.created", "item:42",
        {"limit": [1, 2.5, None, True], "city": "Zürich ✓"},
    )

    assert actual == expected
    assert len(actual) == 64 and actual == actual.lower()


def test_link_hash_does_not_escape_non_ascii():
    args = ("0" * 64, 1, "2026-01-02T03:04:05.000006Z", "a@example.com", "k", "s")
    escaped_body = (
        '{"actor":"a@example.com","at":"2026-01-02T03:04:05.000006Z",'
        '"data":{"city":"Z\\u00fcrich \\u2713"},"kind":"k","seq":1,"subject":"s"}'
    )
    escaped = hashlib.sha256(("0" * 64 + escaped_body).encode("utf-8")).hexdigest()

    assert chain.link_hash(*args, {"city": "Zürich ✓"}) != escaped


def test_canonical_json_sorts_keys_compacts_and_keeps_unicode():
    assert chain.canonical_json({"b": 1, "a": {"d": "✓", "c": [1, 2]}}) == '{"a":{"c":[1,2],"d":"✓"},"b":1}'


def test_format_at_is_utc_iso_with_microseconds_and_z():
    assert chain.format_at(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "2026-01-02T03:04:05.000006Z"


def test_format_at_converts_other_timezones_to_utc():
    plus_two = timezone(timedelta(hours=2))
    assert chain.format_at(datetime(2026, 1, 2, 5, 4, 5, tzinfo=plus_two)) == "2026-01-02T03:04:05.000000Z"


def test_format_at_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        chain.format_at(datetime(2026, 1, 2, 3, 4, 5))


def test_verify_links_accepts_a_good_chain():
    links = build_chain(4)

    result = chain.verify_links(links)

    assert result.ok
    assert result.first_bad_seq is None
    assert result.count == 4
    assert result.head_seq == 4
    assert result.head_hash == links[-1]["hash"]


def test_verify_links_accepts_an_empty_chain():
    result = chain.verify_links([])
    assert result.ok and result.count == 0 and result.head_hash == GENESIS


def test_verify_links_reports_the_seq_of_an_altered_data_field():
    links = build_chain(4)
    links[2]["data"]["title"]["after"] = "Zurich"

    result = chain.verify_links(links)

    assert not result.ok
    assert result.first_bad_seq == 3
    assert "altered" in result.problem
    assert result.count == 2


def test_verify_links_reports_a_gap_in_seq():
    links = build_chain(4)
    del links[1]  # seq 2 missing: seq 3 follows seq 1

    result = chain.verify_links(links)

    assert not result.ok
    assert result.first_bad_seq == 3
    assert "expected seq 2" in result.problem
    assert result.count == 1


def test_verify_links_reports_a_wrong_prev_hash_even_when_the_link_hash_matches():
    links = build_chain(3)
    forged = links[1]
    forged["prev_hash"] = "f" * 64
    forged["hash"] = chain.link_hash(
        forged["prev_hash"], forged["seq"], forged["at"], forged["actor"], forged["kind"],
        forged["subject"], forged["data"],
    )

    result = chain.verify_links(links)

    assert result.first_bad_seq == 2
    assert "prev_hash" in result.problem


def test_verify_links_reports_a_chain_not_starting_at_genesis():
    links = build_chain(3)[1:]  # starts at seq 2

    result = chain.verify_links(links)

    assert result.first_bad_seq == 2
    assert "expected seq 1" in result.problem


def test_verify_links_reports_a_missing_field():
    links = build_chain(3)
    del links[1]["actor"]

    result = chain.verify_links(links)

    assert result.first_bad_seq == 2
    assert "missing" in result.problem and "actor" in result.problem


def test_verify_links_does_not_modify_its_input():
    links = build_chain(2)
    before = copy.deepcopy(links)
    chain.verify_links(links)
    assert links == before
