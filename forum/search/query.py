"""What the person typed in the search box, read into terms both backends understand.

The syntax is the familiar web-search one, the same on SQLite and PostgreSQL:

- words are all required: ``chatbot vendor`` finds what mentions both;
- ``"a phrase"`` keeps words together and in order;
- ``OR`` between two terms accepts either: ``refund OR chargeback``;
- a leading ``-`` excludes a term: ``chatbot -voice``.

Everything else is text to look for, never syntax: quotes, brackets, ``*``, ``:``, ``AND`` and
``NEAR`` are just characters or words. Each backend renders the parsed terms itself: FTS5 as
double-quoted phrases (the only FTS5 string form that cannot carry an operator), PostgreSQL as
``phraseto_tsquery`` calls on bound parameters. User text never becomes query syntax.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
MIN_LETTERS = 2

# A quoted phrase (possibly with a leading minus, possibly unterminated), or a run of non-space.
_ATOM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# What SQLite's unicode61 tokenizer keeps as one token: letters and digits (underscore splits).
_TOKEN = re.compile(r"[^\W_]+")
# Control characters (NUL cannot even be sent to PostgreSQL) separate words like spaces do.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Term:
    """One word or phrase: ``text`` as typed (for PostgreSQL's parser), ``tokens`` as SQLite's
    tokenizer will see them."""

    text: str
    tokens: tuple[str, ...]

    @property
    def fts5(self) -> str:
        # Tokens hold letters and digits only, so the double-quoted string needs no escaping.
        return '"' + " ".join(self.tokens) + '"'


@dataclass
class ParsedQuery:
    #: Every group must match; a group matches when any of its terms does (OR).
    groups: list[list[Term]] = field(default_factory=list)
    #: No result may match any of these.
    excluded: list[Term] = field(default_factory=list)
    #: Terms left out because the query had more than MAX_TERMS.
    dropped: int = 0

    @property
    def terms(self) -> list[Term]:
        return [t for group in self.groups for t in group] + self.excluded

    @property
    def searchable(self) -> bool:
        """True when there is something to look for: at least one required term with enough
        letters (a lone ``-term``, ``*`` or ``a`` is not a search)."""
        return any(
            sum(len(token) for token in term.tokens) >= MIN_LETTERS
            for group in self.groups for term in group
        )

    def fts5(self) -> str:
        """The FTS5 MATCH expression: only double-quoted phrases and FTS5's own operators."""
        required = " AND ".join("(" + " OR ".join(t.fts5 for t in group) + ")" for group in self.groups)
        expression = required
        for term in self.excluded:
            expression = f"({expression}) NOT {term.fts5}"
        return expression


def parse(text: str) -> ParsedQuery:
    """Read ``text`` into required groups and exclusions; never raises on any input."""
    parsed = ParsedQuery()
    pending_or = after_required = False
    count = 0
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text or ""))
    for match in _ATOM.finditer(text):
        minus, phrase, word = match.groups()
        if word == "OR":
            pending_or = after_required
            continue
        negated = bool(minus) if phrase is not None else word.startswith("-")
        raw = phrase if phrase is not None else word.lstrip("-")
        tokens = tuple(_TOKEN.findall(raw))
        if not tokens:
            continue  # only punctuation: nothing to look for
        if count >= MAX_TERMS:
            parsed.dropped += 1
            continue
        count += 1
        term = Term(raw, tokens)
        if negated:
            parsed.excluded.append(term)
        elif pending_or:
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        pending_or, after_required = False, not negated
    return parsed
