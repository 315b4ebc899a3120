"""The verify page, checkpoints (page, service, CLI) and what verification says about them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.audit import verify as audit
from forum.audit.models import Checkpoint
from forum.core.errors import PermissionDenied, ValidationError
from forum.trail import chain
from forum.trail.models import Event
from tests.audit.conftest import count_statements
from tests.conftest import csrf_token_from, logged_in_client


def events(db_session) -> list[Event]:
    db_session.expire_all()
    return list(db_session.scalars(select(Event).order_by(Event.seq)))


def checkpoints(db_session) -> list[Checkpoint]:
    db_session.expire_all()
    return list(db_session.scalars(select(Checkpoint).order_by(Checkpoint.id)))


@pytest.fixture
def csrf_client(protected_app, auditor):
    """An auditor's client of the app with CSRF protection on, as in production."""
    return logged_in_client(protected_app, auditor)


# ------------------------------------------------------------------------------- the page
def test_verify_page_before_any_run_shows_the_head_and_no_result(client, login, auditor, db_session):
    login(auditor)
    head = events(db_session)[-1]

    page = client.get("/trail/verify").get_data(as_text=True)

    assert "has not been verified from this page yet" in page
    assert head.hash in page


def test_posting_verify_runs_it_records_the_result_and_shows_it(csrf_client, auditor, db_session):
    token = csrf_token_from(csrf_client.get("/trail/verify").get_data(as_text=True))
    before = events(db_session)

    response = csrf_client.post("/trail/verify", data={"csrf_token": token})

    assert response.status_code == 302
    after = events(db_session)
    assert len(after) == len(before) + 1
    verified = after[-1]
    assert (verified.kind, verified.actor) == ("trail.verified", auditor.email)
    assert verified.data == {
        "ok": True, "count": len(before), "head_seq": before[-1].seq, "head_hash": before[-1].hash,
        "first_bad_seq": None, "problem": "", "checkpoints": [],
        "head_row": {"seq": before[-1].seq, "hash": before[-1].hash, "status": "ok", "problem": ""},
        "signatures": {"public_key": None, "count": 0, "invalid": [], "newest_signed": None},
    }
    page = csrf_client.get("/trail/verify").get_data(as_text=True)
    assert "The chain verifies" in page  # the flash
    assert f"The chain verified: {len(before)} events checked" in page
    assert before[-1].hash in page


def test_verify_without_the_csrf_token_is_refused_and_records_nothing(csrf_client, auditor, db_session):
    count = len(events(db_session))

    assert csrf_client.post("/trail/verify").status_code == 400
    assert len(events(db_session)) == count


def test_the_page_shows_a_broken_chain_with_its_first_bad_seq(client, login, auditor, notes, tamper):
    notes(4)
    tamper(("UPDATE events SET actor = 'mallory@example.com' WHERE seq = 3", {}))
    login(auditor)

    client.post("/trail/verify")
    page = client.get("/trail/verify").get_data(as_text=True)

    assert "The chain is BROKEN at seq 3" in page
    assert 'BROKEN at seq <a href="/trail/3">3</a>' in page


def test_executives_verify_but_only_auditors_record_checkpoints(client, login, executive, db_session):
    login(executive)
    count = len(events(db_session))

    assert client.post("/trail/verify").status_code == 302
    assert client.post("/trail/checkpoints", data={"note": "x"}).status_code == 403
    assert "Record the current head" not in client.get("/trail/verify").get_data(as_text=True)
    assert len(events(db_session)) == count + 1  # the verification only
    assert checkpoints(db_session) == []


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_may_not_verify(client, login, make_user, role, db_session):
    login(make_user(role))
    count = len(events(db_session))
    assert client.get("/trail/verify").status_code == 403
    assert client.post("/trail/verify").status_code == 403
    assert client.post("/trail/checkpoints").status_code == 403
    assert len(events(db_session)) == count


VERIFY_PAGE_BUDGET = 7


def test_verify_page_keeps_its_query_budget(app, client, login, auditor, db_session, notes):
    login(auditor)
    client.post("/trail/verify")
    client.post("/trail/checkpoints", data={"note": "one"})
    small = count_statements(app, lambda: client.get("/trail/verify"))[0]
    notes(40)
    for n in range(25):
        client.post("/trail/checkpoints", data={"note": f"n{n}"})
    client.post("/trail/verify")
    large = count_statements(app, lambda: client.get("/trail/verify"))[0]
    assert small == large <= VERIFY_PAGE_BUDGET


# ---------------------------------------------------------------------------- checkpoints
def test_recording_a_checkpoint_names_the_head_before_its_own_event(client, login, auditor, db_session):
    login(auditor)
    head = events(db_session)[-1]

    response = client.post("/trail/checkpoints", data={"note": "published in the weekly log"})

    assert response.status_code == 302
    (checkpoint,) = checkpoints(db_session)
    assert (checkpoint.seq, checkpoint.hash) == (head.seq, head.hash)
    assert (checkpoint.created_by, checkpoint.note) == (auditor.email, "published in the weekly log")
    recorded = events(db_session)[-1]
    assert recorded.seq == head.seq + 1
    assert recorded.kind == "trail.checkpoint_recorded"
    assert recorded.data == {"checkpoint": checkpoint.id, "seq": head.seq, "hash": head.hash,
                             "note": "published in the weekly log"}
    page = client.get("/trail/verify").get_data(as_text=True)
    assert f"{head.seq}:{head.hash}" in page


def test_a_too_long_note_is_refused_and_nothing_is_stored(client, login, auditor, db_session):
    login(auditor)
    count = len(events(db_session))

    response = client.post("/trail/checkpoints", data={"note": "x" * 501})

    assert response.status_code == 400
    assert "Field cannot be longer than 500 characters." in response.get_data(as_text=True)
    assert checkpoints(db_session) == []
    assert len(events(db_session)) == count


def test_service_refuses_a_checkpoint_of_an_empty_trail(db_session):
    with pytest.raises(ValidationError, match="The trail is empty"):
        audit.record_checkpoint(db_session, None)
    db_session.rollback()
    assert checkpoints(db_session) == []


def test_service_refuses_a_checkpoint_by_a_non_auditor(db_session, make_user):
    executive = make_user("executive")
    count = len(events(db_session))
    with pytest.raises(PermissionDenied, match="Only auditors"):
        audit.record_checkpoint(db_session, executive)
    db_session.rollback()
    assert checkpoints(db_session) == []
    assert len(events(db_session)) == count


def test_verification_reports_each_checkpoint_and_later_events_do_not_disturb_it(
    db_session, auditor, notes
):
    first = audit.record_checkpoint(db_session, auditor, "first")
    notes(3)
    second = audit.record_checkpoint(db_session, auditor, "second")
    db_session.commit()

    result = audit.verify(db_session, auditor)

    assert result.ok
    assert [(c.seq, c.hash, c.status) for c in result.checkpoints] == [
        (first.seq, first.hash, "ok"), (second.seq, second.hash, "ok"),
    ]


def test_cutting_off_the_newest_events_is_caught_by_a_checkpoint(db_session, auditor, notes, tamper):
    notes(5)
    checkpoint = audit.record_checkpoint(db_session, auditor)
    db_session.commit()
    tamper(("DELETE FROM events WHERE seq > :seq", {"seq": checkpoint.seq - 2}))

    result = audit.verify(db_session, auditor)

    assert result.chain_ok  # what is left is a valid, shorter chain...
    assert not result.ok  # ...but it no longer holds the checkpoint
    (check,) = result.checkpoints
    assert check.status == "missing"
    assert "cut short" in check.describe()


def test_a_rewritten_chain_is_caught_by_a_checkpoint(db_session, auditor, notes, tamper):
    """An attacker who rewrites an event and recomputes every later hash leaves a valid chain;
    the checkpoint taken before still shows the change."""
    notes(4)
    checkpoint = audit.record_checkpoint(db_session, auditor)
    db_session.commit()
    links = [_link(e) for e in events(db_session)]
    links[1]["data"] = {"n": "forged"}
    prev = chain.GENESIS_HASH
    statements = []
    for link in links:
        link["prev_hash"] = prev
        link["hash"] = prev = chain.link_hash(prev, link["seq"], link["at"], link["actor"],
                                              link["kind"], link["subject"], link["data"])
        statements.append(("UPDATE events SET data = :d, prev_hash = :p, hash = :h WHERE seq = :s",
                           {"d": chain.canonical_json(link["data"]), "p": link["prev_hash"],
                            "h": link["hash"], "s": link["seq"]}))
    tamper(*statements)

    result = audit.verify(db_session, auditor)

    assert result.chain_ok
    (check,) = result.checkpoints
    assert check.status == "mismatch"
    assert check.found_hash == links[checkpoint.seq - 1]["hash"] != checkpoint.hash


def _link(event: Event) -> dict:
    return {"seq": event.seq, "at": chain.format_at(event.at), "actor": event.actor,
            "kind": event.kind, "subject": event.subject, "data": event.data}


# ------------------------------------------------------------------------------------ CLI
@pytest.fixture
def cli_env(database_url, tmp_path):
    return {"FORUM_DATABASE_URL": database_url, "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
            "FORUM_SECRET_KEY": "cli"}


def test_cli_checkpoint_prints_and_stores_the_head(cli, cli_env, db_session, notes):
    notes(3)
    head = events(db_session)[-1]

    result = cli("trail", "checkpoint", "--note", "from cron", env=cli_env)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"{head.seq}:{head.hash}"
    (checkpoint,) = checkpoints(db_session)
    assert (checkpoint.seq, checkpoint.created_by, checkpoint.note) == (head.seq, "system", "from cron")
    verified = cli("trail", "verify", env=cli_env)
    assert verified.exit_code == 0, verified.output
    assert f"checkpoint {head.seq}:{head.hash} (checkpoint {checkpoint.id}): ok" in verified.output


def test_cli_checkpoint_of_an_empty_trail_fails(cli, cli_env):
    result = cli("trail", "checkpoint", env=cli_env)
    assert result.exit_code == 1
    assert "No checkpoint recorded: The trail is empty" in result.output


def test_cli_verify_of_a_file_checks_given_checkpoints(cli, cli_env, db_session, notes, tmp_path):
    notes(6)
    head = events(db_session)[-1]
    export = tmp_path / "trail.jsonl"
    assert cli("trail", "export", "--output", str(export), env=cli_env).exit_code == 0

    held = cli("trail", "verify", "--file", str(export), "--checkpoint", f"{head.seq}:{head.hash}",
               "--checkpoint", f"2:{events(db_session)[1].hash}")
    wrong = cli("trail", "verify", "--file", str(export), "--checkpoint", f"3:{'0' * 64}")
    beyond = cli("trail", "verify", "--file", str(export), "--checkpoint", f"{head.seq + 5}:{'a' * 64}")

    assert held.exit_code == 0, held.output
    assert held.output.count(": ok") == 2
    assert wrong.exit_code == 1
    assert "3:" + "0" * 64 in wrong.output and "MISMATCH" in wrong.output
    assert "CHECKPOINT FAILED: 1 of 1" in wrong.output
    assert beyond.exit_code == 1 and "MISSING" in beyond.output


@pytest.mark.parametrize("value", ["12", "x:" + "a" * 64, "3:abc", "0:" + "a" * 64, "3:" + "g" * 64])
def test_cli_refuses_a_malformed_checkpoint(cli, tmp_path, value):
    export = tmp_path / "trail.jsonl"
    export.write_text("")
    result = cli("trail", "verify", "--file", str(export), "--checkpoint", value)
    assert result.exit_code == 2
    assert "--checkpoint" in result.output


def test_page_and_cli_report_the_same_count_and_head(cli, cli_env, client, login, auditor, db_session):
    login(auditor)
    client.post("/trail/verify")
    verified = events(db_session)[-1]

    result = cli("trail", "verify", env=cli_env)

    data = verified.data
    assert result.exit_code == 0
    # the CLI sees one more event: the page's own trail.verified event
    assert result.output.startswith(f"OK: {data['count'] + 1} events checked; head seq {verified.seq}, "
                                    f"head hash {verified.hash}")


def test_the_verify_page_names_the_download_and_states_the_hash_rule(client, login, auditor, db_session, notes):
    """Auditors can act on the page alone: the command names the file the download arrives as,
    and the hash rule is on the page (no pointer to files outside the app)."""
    notes(3)
    head = db_session.scalar(select(Event).order_by(Event.seq.desc()).limit(1))
    login(auditor)
    page = client.get("/trail/verify").get_data(as_text=True)
    name = f"trail_seq1-{head.seq}_head-{head.hash[:8]}.jsonl"
    assert f"forum trail verify --file {name} --checkpoint SEQ:HASH" in page
    download = client.get("/trail/export.jsonl")
    assert name in download.headers["Content-Disposition"]
    assert "The hash rule" in page and "64 zeros" in page and "README" not in page
