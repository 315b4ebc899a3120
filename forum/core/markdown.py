"""Markdown to HTML, sanitised with nh3 so no script, handler attribute or javascript: URL survives."""

from __future__ import annotations

import threading
from functools import lru_cache

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "dd", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


#: Rendered texts kept per process: the same comment, rationale or summary is shown on every
#: view of its page, and rendering is a pure function of the text.
CACHE_SIZE = 2048
_local = threading.local()  # a Markdown instance holds state while converting: one per thread


def _converter() -> md.Markdown:
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = md.Markdown(extensions=["fenced_code", "tables", "sane_lists"])
    return converter


@lru_cache(maxsize=CACHE_SIZE)
def _to_html(text: str) -> str:
    html = _converter().reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render(text: str | None) -> Markup:
    """Render user Markdown to safe HTML. Raw HTML in the input is escaped by the sanitiser's
    allow-list; links get rel="noopener noreferrer nofollow"."""
    return Markup(_to_html(text or ""))  # sanitised by nh3 with the allow-lists above
