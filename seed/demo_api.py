"""Demo API tokens (seed/api.json), created through the token service so that each has its
trail event. Their secrets are random and never printed: the demo shows the tokens page and the
trail; to call the API, create a token on /settings/tokens."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.api import service
from forum.api.models import ApiToken
from forum.auth import service as accounts
from forum_seed import DATA

DEMO_TOKENS_PATH = DATA / "api.json"


def load_demo_tokens(session: Session) -> int:
    """Create the demo tokens that do not exist yet (by owner and name); returns how many."""
    spec = json.loads(DEMO_TOKENS_PATH.read_text(encoding="utf-8"))
    created = 0
    for entry in spec["tokens"]:
        owner = accounts.get_user_by_email(session, entry["user"])
        if owner is None:
            raise ValueError(f"{DEMO_TOKENS_PATH.name}: no user {entry['user']!r} in the demo data set")
        exists = session.scalar(select(ApiToken.id).where(ApiToken.user_id == owner.id, ApiToken.name == entry["name"]))
        if exists is not None:
            continue
        token, _secret = service.create_token(session, owner, owner, service.NewToken(entry["name"], entry["scopes"]))
        if entry.get("revoked"):
            service.revoke_token(session, owner, token)
        created += 1
    return created
