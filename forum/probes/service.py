"""The rules of probing: who keeps the endpoints (administrators), who probes (staff and
executives), running a prompt against two versions side by side within the endpoints' timeouts,
and saving the judged answers to the trail (``probe.saved``; an unsaved run is not on it).

An endpoint's API key lives in the environment of the forum's processes, under the variable the
endpoint names; neither the key nor its value is ever stored, shown or put on the trail.
"""

from __future__ import annotations

import hashlib
import os
import re
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from limits import RateLimitItemPerHour
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core import clock
from forum.core.errors import Conflict, NotFound, PermissionDenied, TooManyRequests, ValidationError
from forum.core.extensions import limiter
from forum.core.policy import Action, allows
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.probes import client
from forum.probes.models import VERDICTS, ModelEndpoint, Probe, ProbeAnswer
from forum.proximity import service as proximity
from forum.proximity.models import ProposedCase
from forum.systems.models import AISystem
from forum.trail.service import record

MAX_PROMPT = 8_000
MAX_NOTE = 500
MAX_TEXT = 20_000  # characters of an answer kept (the page and the trail)
_KEY_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]{0,99}")
#: Threads that wait on endpoints, shared by the worker's requests (two per probe).
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="probe")


@dataclass(frozen=True)
class Settings:
    hosts: frozenset[str]
    max_bytes: int

    @classmethod
    def of(cls, config) -> Settings:
        return cls(client.parse_hosts(str(config.get("PROBE_HOSTS", ""))), int(config["PROBE_MAX_ANSWER_BYTES"]))


def may_keep_endpoints(actor: User | None) -> bool:
    return allows(actor, Action.ADMINISTER)


def may_probe(actor: User | None) -> bool:
    return allows(actor, Action.TAKE_PART)


# -------------------------------------------------------------------------------- endpoints
@dataclass
class EndpointData:
    version: str
    base_url: str
    model: str
    key_variable: str = ""
    timeout_seconds: int = 20
    per_user_per_hour: int = 30


def endpoints(session: Session, system: AISystem) -> list[ModelEndpoint]:
    return list(session.scalars(select(ModelEndpoint).where(ModelEndpoint.system_id == system.id)
                                .order_by(ModelEndpoint.created_at.desc(), ModelEndpoint.id.desc())))


def add_endpoint(session: Session, actor: User, system: AISystem, data: EndpointData,
                 settings: Settings) -> ModelEndpoint:
    if not may_keep_endpoints(actor):
        raise PermissionDenied("Only administrators add model endpoints.")
    version = (data.version or "").strip()
    if not version or len(version) > 80:
        raise ValidationError("Give the system version the endpoint serves (1–80 characters).", "version")
    base_url = (data.base_url or "").strip().rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(base_url) > 500 or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise ValidationError("Give the API's base address, e.g. https://gateway.example.com/v1 (http or https, "
                              "no credentials, query or fragment; at most 500 characters).", "base_url")
    if not client.host_allowed(base_url, settings.hosts):
        allowed = ", ".join(sorted(settings.hosts)) or "none yet"
        raise ValidationError(f"{parts.netloc} is not on the forum's list of model hosts (FORUM_PROBE_HOSTS: "
                              f"{allowed}). An operator adds it to the configuration first.", "base_url")
    model = (data.model or "").strip()
    if not model or len(model) > 200:
        raise ValidationError("Give the model name the API expects (1–200 characters).", "model")
    key_variable = (data.key_variable or "").strip()
    if key_variable and not _KEY_VARIABLE.fullmatch(key_variable):
        raise ValidationError("Give the name of the environment variable that holds the key (capital letters, "
                              "digits and _), not the key itself.", "key_variable")
    if not 1 <= data.timeout_seconds <= 60:
        raise ValidationError("The timeout is 1 to 60 seconds.", "timeout_seconds")
    if not 1 <= data.per_user_per_hour <= 1000:
        raise ValidationError("Allow 1 to 1,000 probes per person and hour.", "per_user_per_hour")
    taken = session.scalar(select(ModelEndpoint.id).where(ModelEndpoint.system_id == system.id,
                                                          ModelEndpoint.version == version))
    if taken is not None:
        raise Conflict(f"Version {version} has an endpoint already; remove it first to replace it.", "version")
    endpoint = ModelEndpoint(system_id=system.id, version=version, base_url=base_url, model=model,
                             key_variable=key_variable, timeout_seconds=data.timeout_seconds,
                             per_user_per_hour=data.per_user_per_hour, created_at=clock.now(),
                             created_by=actor.email)
    session.add(endpoint)
    session.flush()
    record(session, actor, "system.endpoint_added", system.subject, {
        "name": system.name, "endpoint": endpoint.id, "version": version, "base_url": base_url, "model": model,
        "key_variable": key_variable, "timeout_seconds": data.timeout_seconds,
        "per_user_per_hour": data.per_user_per_hour})
    return endpoint


def remove_endpoint(session: Session, actor: User, system: AISystem, endpoint_id: int) -> None:
    if not may_keep_endpoints(actor):
        raise PermissionDenied("Only administrators remove model endpoints.")
    endpoint = session.get(ModelEndpoint, endpoint_id)
    if endpoint is None or endpoint.system_id != system.id:
        raise NotFound(f"{system.name} has no endpoint {endpoint_id}.")
    # The answers of saved probes keep the address and model they came from; they no longer point here.
    for answer in session.scalars(select(ProbeAnswer).where(ProbeAnswer.endpoint_id == endpoint.id)):
        answer.endpoint_id = None
    session.delete(endpoint)
    session.flush()
    record(session, actor, "system.endpoint_removed", system.subject, {
        "name": system.name, "endpoint": endpoint_id, "version": endpoint.version, "base_url": endpoint.base_url,
        "model": endpoint.model})


# ---------------------------------------------------------------------------------- probing
def _ask(endpoint: ModelEndpoint, prompt: str, settings: Settings):
    key = ""
    if endpoint.key_variable:
        key = os.environ.get(endpoint.key_variable, "")
        if not key:
            raise client.ProbeError(f"The forum has no API key for this endpoint: the environment variable "
                                    f"{endpoint.key_variable} is not set on its server.")
    return client.complete(endpoint.base_url, endpoint.model, prompt, api_key=key,
                           timeout=endpoint.timeout_seconds, max_bytes=settings.max_bytes, allowed=settings.hosts)


def run_probe(session: Session, actor: User, system: AISystem, prompt: str, chosen: list[int],
              settings: Settings, item: DecisionItem | None = None) -> Probe:
    """Ask each chosen endpoint of the system (one or two) at once; the request waits no longer
    than the longest of their timeouts. Every answer, or the error in its place, is kept on an
    unsaved probe."""
    if not may_probe(actor):
        raise PermissionDenied("Only staff and executives probe models.")
    prompt = (prompt or "").strip()
    if not prompt or len(prompt) > MAX_PROMPT:
        raise ValidationError(f"Write a prompt of 1–{MAX_PROMPT:,} characters.", "prompt")
    by_id = {e.id: e for e in endpoints(session, system)}
    picked = list(dict.fromkeys(chosen))
    if not picked or len(picked) > 2 or any(i not in by_id for i in picked):
        raise ValidationError("Choose one or two versions of this system that have an endpoint.", "versions")
    # Each endpoint's limit per person and hour, counted by Flask-Limiter's storage (memory, or
    # Redis shared by every instance: FORUM_RATELIMIT_STORAGE_URI); checked for all before any counts.
    limits = [(RateLimitItemPerHour(by_id[i].per_user_per_hour), ("probe", str(actor.id), str(i))) for i in picked]
    for (limit, keys), endpoint_id in zip(limits, picked, strict=True):
        if not limiter.limiter.test(limit, *keys):
            endpoint = by_id[endpoint_id]
            raise TooManyRequests(f"You have probed version {endpoint.version} {endpoint.per_user_per_hour} times "
                                  "this hour, its limit; try again later.", "versions")
    for limit, keys in limits:
        limiter.limiter.hit(limit, *keys)
    _forget_unsaved(session, actor)
    futures = [_POOL.submit(_ask, by_id[i], prompt, settings) for i in picked]
    wait(futures, timeout=max(by_id[i].timeout_seconds for i in picked) + 1)
    probe = Probe(system_id=system.id, item_id=item.id if item else None, prompt=prompt, run_by_id=actor.id, run_at=clock.now())
    for position, (endpoint_id, future) in enumerate(zip(picked, futures, strict=True)):
        endpoint = by_id[endpoint_id]
        answer = ProbeAnswer(position=position, endpoint_id=endpoint.id, version=endpoint.version,
                             model=endpoint.model, base_url=endpoint.base_url)
        if not future.done():
            future.cancel()
            answer.error = f"No complete answer within {endpoint.timeout_seconds} s."
        else:
            try:
                result = future.result()
            except client.ProbeError as error:
                answer.error = error.message[:500]
            else:
                answer.text = result.text[:MAX_TEXT]
                answer.sha256 = hashlib.sha256(result.text.encode("utf-8")).hexdigest()
                answer.latency_ms = result.latency_ms
                answer.prompt_tokens, answer.completion_tokens = result.prompt_tokens, result.completion_tokens
        probe.answers.append(answer)
    session.add(probe)
    session.flush()
    return probe


UNSAVED_KEPT = timedelta(days=1)


def _forget_unsaved(session: Session, actor: User) -> None:
    """The actor's runs left unsaved for more than a day go when they run a new one (they were
    never on the trail, and nobody else could see them)."""
    stale = select(Probe.id).where(Probe.run_by_id == actor.id, Probe.saved_at.is_(None),
                                   Probe.run_at < clock.now() - UNSAVED_KEPT)
    session.execute(delete(ProbeAnswer).where(ProbeAnswer.probe_id.in_(stale)))
    session.execute(delete(Probe).where(Probe.id.in_(stale)))


def get_probe(session: Session, viewer: User, probe_id: int) -> Probe:
    """A probe: saved ones for everyone who reads the forum, an unsaved one only for its runner."""
    probe = session.get(Probe, probe_id)
    if probe is None or (probe.saved_at is None and probe.run_by_id != viewer.id):
        raise NotFound(f"There is no probe {probe_id}.")
    return probe


def save_probe(session: Session, actor: User, system: AISystem, probe: Probe,
               verdicts: dict[int, tuple[str, str]]) -> None:
    """Judge each answer (``verdicts``: answer id -> (verdict, note)) and put the probe on the trail."""
    if probe.run_by_id != actor.id:
        raise PermissionDenied("Only the person who ran a probe saves it.")
    if probe.saved_at is not None:
        raise Conflict("This probe is saved already.", "verdict")
    for answer in probe.answers:
        verdict, note = verdicts.get(answer.id, ("", ""))
        note = (note or "").strip()
        if answer.error:
            if verdict:
                raise ValidationError(f"Version {answer.version} gave no answer to judge.", f"verdict-{answer.id}")
        elif verdict not in VERDICTS:
            raise ValidationError(f"Say whether version {answer.version}'s answer is acceptable.",
                                  f"verdict-{answer.id}")
        if len(note) > MAX_NOTE:
            raise ValidationError(f"Keep the note to {MAX_NOTE} characters.", f"note-{answer.id}")
        answer.verdict, answer.note = verdict, note
    probe.saved_at = clock.now()
    session.flush()
    record(session, actor, "probe.saved", system.subject, {
        "name": system.name, "probe": probe.id, "item": probe.item_id, "prompt": probe.prompt,
        "answers": [{"version": a.version, "model": a.model, "base_url": a.base_url, "text": a.text,
                     "sha256": a.sha256, "error": a.error, "latency_ms": a.latency_ms,
                     "prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens,
                     "verdict": a.verdict, "note": a.note} for a in probe.answers]})


def saved_probes(session: Session, system: AISystem, limit: int = 10) -> list[Probe]:
    return list(session.scalars(select(Probe).where(Probe.system_id == system.id, Probe.saved_at.is_not(None))
                                .order_by(Probe.saved_at.desc(), Probe.id.desc()).limit(limit)))


# ------------------------------------------------------------------ items and edge cases
def item_of(session: Session, actor: User, system: AISystem, item_id: int | None) -> DecisionItem | None:
    """The item a probe is run from (its page, a failing case, a proposed case): one the actor
    sees, about this system."""
    if item_id is None:
        return None
    try:
        item = items.get_item(session, actor, item_id)
    except NotFound as error:
        raise ValidationError(error.reason, "item") from error
    if item.system_id != system.id:
        raise ValidationError(f"Item {item_id} is not about {system.name}.", "item")
    return item


def items_to_propose_on(session: Session, actor: User, probe: Probe, limit: int = 50) -> list[DecisionItem]:
    """Where an edge case from this probe can go: the item it was run from, else the newest
    items about the system the actor may propose on."""
    if probe.item_id is not None:
        item = session.get(DecisionItem, probe.item_id)
        return [item] if item is not None and proximity.can_propose(actor, item) else []
    found = session.scalars(select(DecisionItem).where(
        DecisionItem.system_id == probe.system_id, DecisionItem.status.not_in(proximity.CLOSED_STATUSES),
        or_(DecisionItem.status != "draft", DecisionItem.filer_id == actor.id))
        .order_by(DecisionItem.created_at.desc(), DecisionItem.id.desc()).limit(limit))
    return [item for item in found if proximity.can_propose(actor, item)]


def propose_from_answer(session: Session, actor: User, probe: Probe, answer_id: int, item_id: int | None,
                        description: str) -> ProposedCase:
    """Turn an answer judged unacceptable into a proposed edge case on an item about the system:
    the probe's prompt as its input, the answer as what was observed (``case.proposed``)."""
    answer = next((a for a in probe.answers if a.id == answer_id), None)
    if answer is None:
        raise NotFound(f"Probe {probe.id} has no answer {answer_id}.")
    if probe.saved_at is None or answer.verdict != "unacceptable":
        raise Conflict("Only an answer judged not acceptable, in a saved probe, becomes an edge case.", "verdict")
    if answer.proposed_case_id is not None:
        raise Conflict(f"This answer is edge case proposed-{answer.proposed_case_id} already.", "item")
    allowed = {item.id: item for item in items_to_propose_on(session, actor, probe)}
    if item_id not in allowed:
        raise ValidationError("Choose an item about this system to propose the edge case on.", "item")
    case = proximity.propose_case(session, actor, allowed[item_id], proximity.ProposalData(
        description=description, example_input=probe.prompt, observed_output=answer.text))
    answer.proposed_case_id = case.id
    session.flush()
    return case


# ---------------------------------------------------------------------------- for decisions
def probes_before(session: Session, system_id: int | None, user_ids: list[int], at) -> dict[int, list[dict]]:
    """Per person, the probes of the system they saved by ``at`` (one statement; newest 20 each):
    what a decision keeps of who tried the model before deciding."""
    if system_id is None or not user_ids:
        return {}
    found: dict[int, list[dict]] = {}
    for probe_id, user_id, saved_at in session.execute(
            select(Probe.id, Probe.run_by_id, Probe.saved_at)
            .where(Probe.system_id == system_id, Probe.run_by_id.in_(user_ids), Probe.saved_at.is_not(None),
                   Probe.saved_at <= at)
            .order_by(Probe.saved_at.desc(), Probe.id.desc())):
        mine = found.setdefault(user_id, [])
        if len(mine) < 20:
            mine.append({"probe": probe_id, "at": saved_at.isoformat().replace("+00:00", "Z")})
    return found
