"""What verification catches beyond the links: a chain cut short behind the head row, and
signed checkpoints (Ed25519, key outside the database) checked against the public key, from the
database and from an export."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from forum.audit import verify as audit
from forum.audit.models import Checkpoint
from forum.trail import chain, signing
from forum.trail.models import Event


def events(session) -> list[Event]:
    session.expire_all()
    return list(session.scalars(select(Event).order_by(Event.seq)))


@pytest.fixture
def cli_env(database_url, tmp_path):
    return {"FORUM_DATABASE_URL": database_url, "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
            "FORUM_SECRET_KEY": "cli"}


@pytest.fixture
def keys(cli, tmp_path):
    """A key pair made by `forum trail keygen`: (private key file, public key file)."""
    private, public = tmp_path / "trail-signing.pem", tmp_path / "trail-public.pem"
    result = cli("trail", "keygen", "--private-key", str(private), "--public-key", str(public))
    assert result.exit_code == 0, result.output
    assert (private.stat().st_mode & 0o777) == 0o600
    assert "BEGIN PUBLIC KEY" in result.output
    return private, public


def signed_checkpoint(cli, cli_env, keys) -> str:
    result = cli("trail", "checkpoint", "--require-signature",
                 env=cli_env | {"FORUM_TRAIL_SIGNING_KEY_FILE": str(keys[0])})
    assert result.exit_code == 0, result.output
    assert "signed by key" in result.output
    return result.output.splitlines()[-1]


# --------------------------------------------------------------------------------- the cut
def test_verify_reports_a_tail_cut_behind_the_head_row(cli, cli_env, db_session, notes, tamper):
    """No checkpoint at all: the head row still names the old head, so the cut shows."""
    notes(6)
    head = events(db_session)[-1]
    tamper(("DELETE FROM events WHERE seq > :seq", {"seq": head.seq - 3}))

    result = audit.verify(db_session, None)

    assert result.chain_ok and result.count == head.seq - 3  # what is left links up...
    assert result.cut and not result.ok  # ...but ends before the head row's head
    assert "the newest 3 event(s) were cut off" in result.describe_head_row()
    printed = cli("trail", "verify", env=cli_env)
    assert printed.exit_code == 1
    assert f"CUT: the head row names seq {head.seq}" in printed.output


def test_the_verify_page_reports_the_cut(client, login, auditor, db_session, notes, tamper):
    notes(5)
    head_seq = events(db_session)[-1].seq
    tamper(("DELETE FROM events WHERE seq > :seq", {"seq": head_seq - 2}))
    login(auditor)

    page = client.post("/trail/verify", follow_redirects=True).get_data(as_text=True)

    assert f"the head row names seq {head_seq}" in page
    assert "the newest 2 event(s) were cut off" in page
    # The insert guard takes appends at the chain's real head only, so nothing can be appended
    # after the head row's head: the result is shown, not recorded.
    assert "The result could not be put on the record" in page
    assert events(db_session)[-1].seq == head_seq - 2
    # Once the head row names the chain's real end again, the result goes on the record.
    last = events(db_session)[-1]
    tamper(("UPDATE trail_head SET seq = :s, hash = :h", {"s": last.seq, "h": last.hash}))
    client.post("/trail/verify")
    recorded = events(db_session)[-1]
    assert recorded.kind == "trail.verified" and recorded.seq == last.seq + 1


def test_an_intact_chain_ends_at_the_head_row(db_session, notes):
    notes(3)
    result = audit.verify(db_session, None)
    assert result.ok and result.head_row.status == "ok" and result.head_row.seq == result.head_seq


# -------------------------------------------------------------------- signed checkpoints
def test_a_signed_checkpoint_verifies_and_is_the_newest_signed_head(cli, cli_env, keys, db_session, notes):
    notes(3)
    head = events(db_session)[-1]

    token = signed_checkpoint(cli, cli_env, keys)

    assert token == f"{head.seq}:{head.hash}"
    row = db_session.scalar(select(Checkpoint))
    public = signing.load_public_key(keys[1].read_text())
    assert row.key_id == signing.key_id(public) and row.signature
    recorded = events(db_session)[-1]
    assert recorded.kind == "trail.checkpoint_recorded"
    assert recorded.data["signature"] == row.signature and recorded.data["at"] == chain.format_at(row.created_at)
    verified = cli("trail", "verify", env=cli_env | {"FORUM_TRAIL_PUBLIC_KEY_FILE": str(keys[1])})
    assert verified.exit_code == 0, verified.output
    assert f"newest signed head held: seq {head.seq}, hash {head.hash}" in verified.output


def test_a_rehashed_tail_with_deleted_checkpoint_rows_fails_the_signature_check(
        cli, cli_env, keys, db_session, notes, tamper):
    """An attacker changes an event, recomputes every later hash, deletes the checkpoint rows and
    makes the checkpoint's event name the new head: without the signing key its signature no
    longer verifies."""
    notes(4)
    signed_checkpoint(cli, cli_env, keys)
    notes(2)
    links = [_link(e) for e in events(db_session)]
    checkpoint_event = next(link for link in links if link["kind"] == "trail.checkpoint_recorded")
    links[1]["data"] = {"n": "forged"}
    prev = chain.GENESIS_HASH
    for link in links:
        if link is checkpoint_event:  # name the rewritten head, keep the old signature
            link["data"]["hash"] = prev
        link["prev_hash"] = prev
        link["hash"] = prev = chain.link_hash(prev, link["seq"], link["at"], link["actor"], link["kind"],
                                              link["subject"], link["data"])
    tamper("DELETE FROM trail_checkpoints", "DELETE FROM events", *[
        ("INSERT INTO events (seq, at, actor, kind, subject, data, prev_hash, hash) "
         "VALUES (:seq, :at, :actor, :kind, :subject, :data, :prev_hash, :hash)",
         link | {"at": stored_at(db_session, event.at), "data": chain.canonical_json(link["data"])})
        for link, event in zip(links, events(db_session), strict=True)
    ], ("UPDATE trail_head SET seq = :s, hash = :h", {"s": links[-1]["seq"], "h": links[-1]["hash"]}))

    public = signing.load_public_key(keys[1].read_text())
    result = audit.verify(db_session, None, public_key=public)
    unkeyed = audit.verify(db_session, None)

    assert result.chain_ok and result.head_row_ok and result.checkpoints == []  # a valid chain...
    assert not result.signatures_ok and not result.ok  # ...whose signed checkpoint is forged
    (check,) = result.signatures
    assert check.status == "invalid"
    assert result.newest_signed is None
    assert unkeyed.ok  # without the public key nothing shows: the key is what vouches
    printed = cli("trail", "verify", env=cli_env | {"FORUM_TRAIL_PUBLIC_KEY_FILE": str(keys[1])})
    assert printed.exit_code == 1
    assert "SIGNATURE FAILED: 1 of 1 signed checkpoints" in printed.output


def test_a_checkpoint_signed_with_another_key_fails(cli, cli_env, keys, db_session, notes, tmp_path):
    notes(2)
    other = tmp_path / "other.pem"
    assert cli("trail", "keygen", "--private-key", str(other)).exit_code == 0
    assert cli("trail", "checkpoint", env=cli_env | {"FORUM_TRAIL_SIGNING_KEY_FILE": str(other)}).exit_code == 0

    result = audit.verify(db_session, None, public_key=signing.load_public_key(keys[1].read_text()))

    assert not result.ok
    assert {s.status for s in result.signatures} == {"invalid"}


def test_unsigned_checkpoints_keep_working_beside_signed_ones(cli, cli_env, keys, db_session, notes, auditor):
    notes(2)
    unsigned = audit.record_checkpoint(db_session, auditor, "by hand")
    db_session.commit()
    signed_checkpoint(cli, cli_env, keys)

    result = audit.verify(db_session, None, public_key=signing.load_public_key(keys[1].read_text()))

    assert result.ok
    assert unsigned.signature is None
    assert [s.status for s in result.signatures] == ["valid"]
    assert result.newest_signed.seq == unsigned.seq + 1  # the signed one names the unsigned one's event


def test_checkpoint_refuses_an_unusable_signing_key(cli, cli_env, db_session, notes, tmp_path):
    notes(1)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")

    result = cli("trail", "checkpoint", env=cli_env | {"FORUM_TRAIL_SIGNING_KEY_FILE": str(bad)})
    missing = cli("trail", "checkpoint", "--require-signature", env=cli_env)

    assert result.exit_code == 1 and "FORUM_TRAIL_SIGNING_KEY_FILE: the signing key is neither PEM nor base64" in result.output
    assert missing.exit_code == 1 and "no signing key" in missing.output
    assert db_session.scalar(select(Checkpoint)) is None


def test_keys_in_raw_base64_work_too(db_session, auditor, notes):
    import base64

    key = signing.Ed25519PrivateKey.generate()
    raw_private = base64.b64encode(key.private_bytes_raw()).decode()
    raw_public = base64.b64encode(signing.raw_public(key.public_key())).decode()
    notes(2)
    audit.record_checkpoint(db_session, auditor, signing_key=signing.signing_key_from(
        {"FORUM_TRAIL_SIGNING_KEY": raw_private}))
    db_session.commit()

    result = audit.verify(db_session, None, public_key=signing.public_key_from({"FORUM_TRAIL_PUBLIC_KEY": raw_public}))

    assert result.ok and result.newest_signed is not None


# ----------------------------------------------------------------------------- the export
def test_verify_file_checks_the_signatures_the_export_carries(cli, cli_env, keys, db_session, notes, tmp_path):
    notes(3)
    signed_checkpoint(cli, cli_env, keys)
    notes(1)
    export = tmp_path / "trail.jsonl"
    assert cli("trail", "export", "--output", str(export), env=cli_env).exit_code == 0
    lines = export.read_text(encoding="utf-8").splitlines()
    checkpoint_line = next(n for n, line in enumerate(lines) if "trail.checkpoint_recorded" in line)
    named = json.loads(lines[checkpoint_line])["data"]

    good = cli("trail", "verify", "--file", str(export), "--public-key", str(keys[1]))
    unkeyed = cli("trail", "verify", "--file", str(export))
    # A forged export: the checkpoint's event names another time, re-hashed from there on.
    forged_links = [json.loads(line) for line in lines]
    forged_links[checkpoint_line]["data"]["at"] = "2020-01-01T00:00:00.000000Z"
    prev = forged_links[checkpoint_line - 1]["hash"]
    for link in forged_links[checkpoint_line:]:
        link["prev_hash"] = prev
        link["hash"] = prev = chain.link_hash(prev, link["seq"], link["at"], link["actor"], link["kind"],
                                              link["subject"], link["data"])
    forged = tmp_path / "forged.jsonl"
    forged.write_text("".join(chain.canonical_json(link) + "\n" for link in forged_links), encoding="utf-8")
    bad = cli("trail", "verify", "--file", str(forged), "--public-key", str(keys[1]))

    assert good.exit_code == 0, good.output
    assert f"newest signed head held: seq {named['seq']}, hash {named['hash']}" in good.output
    assert unkeyed.exit_code == 0 and "1 signed checkpoint(s) not checked" in unkeyed.output
    assert bad.exit_code == 1
    assert "LINKS OK" in bad.output  # the links still hold: only the signature shows the forgery
    assert "SIGNATURE FAILED" in bad.output
    assert "newest signed head held: none" in bad.output


def stored_at(session, moment):
    """An event time as raw SQL stores it: SQLite keeps naive UTC text (forum.core.db)."""
    if session.get_bind().dialect.name == "sqlite":
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def _link(event: Event) -> dict:
    return {"seq": event.seq, "at": chain.format_at(event.at), "actor": event.actor,
            "kind": event.kind, "subject": event.subject, "data": event.data}


def test_after_a_cut_a_change_is_refused_with_a_clear_503_and_nothing_is_saved(
        app, client, login, staff, make_item, db_session, notes, tamper):
    """The insert guard refuses to append behind a cut: people get a 503 that says why (not a
    500), on pages and in the API, and the change they made is not saved."""
    from forum.api import service as api_service
    from forum.weighing.models import Comment

    item = make_item(staff, status="open")
    _row, token = api_service.create_token(db_session, None, staff, api_service.NewToken("ci", ["items:write"]))
    db_session.commit()
    notes(3)
    head_seq = events(db_session)[-1].seq
    tamper(("DELETE FROM events WHERE seq > :seq", {"seq": head_seq - 1}))
    login(staff)

    page = client.post(f"/items/{item.id}/comments", data={"body": "Still there?"})
    assert page.status_code == 503
    assert "The decision trail is damaged" in page.get_data(as_text=True)
    answer = client.post("/api/v1/items", json={"title": "New", "category": "vendor_selection",
                                                "function": "procurement"},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and "trail is damaged" in answer.get_json()["detail"]
    db_session.expire_all()
    assert db_session.query(Comment).count() == 0
    assert events(db_session)[-1].seq == head_seq - 1
