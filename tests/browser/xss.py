"""The XSS corpus and the check that a page rendered it inert, shared by the browser tests."""

from __future__ import annotations

XSS_PAYLOADS = [
    "<script>alert('xss-script')</script>",
    "<img src=x onerror=alert('xss-img')>",
    "<svg onload=alert('xss-svg')></svg>",
    "[click me](javascript:alert('xss-link'))",
    "![pic](javascript:alert('xss-image'))",
    "&lt;script&gt;alert('xss-entity')&lt;/script&gt;",
    "<a href=\"jav&#x09;ascript:alert('xss-tab')\">tab</a>",
    "<iframe src=\"javascript:alert('xss-iframe')\"></iframe>",
    "\"><b id=injected>bold</b>",
]
# The shortest, most telling payloads first, for fields that hold only a few dozen characters.
_BY_PRIORITY = sorted(XSS_PAYLOADS, key=len)


def payload(marker: str, limit: int = 20_000) -> str:
    """``marker`` (a plain word to find the text by on the page) followed by as many payloads of
    the corpus as fit in ``limit`` characters — all of them in a long text field."""
    text = marker
    for item in _BY_PRIORITY:
        if len(text) + 1 + len(item) > limit:
            break
        text += "\n" + item
    return text


_ACTIVE_CONTENT = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.toLowerCase().startsWith('on')) found.push(`${el.tagName} ${attr.name}`);
    }
  }
  for (const a of document.querySelectorAll('a[href], area[href]')) {
    if (a.protocol === 'javascript:') found.push(`link to ${a.getAttribute('href')}`);
  }
  for (const el of document.querySelectorAll('iframe, object, embed, frame')) found.push(el.tagName);
  for (const s of document.querySelectorAll('script')) {
    const src = s.getAttribute('src') || '';
    if (!src.startsWith('/static/')) found.push(`script ${src || 'inline'}`);
  }
  for (const el of document.querySelectorAll('[src], [data], [formaction], [action]')) {
    for (const name of ['src', 'data', 'formaction', 'action']) {
      const v = (el.getAttribute(name) || '').replace(/[\\s\\x00-\\x1f]/g, '').toLowerCase();
      if (v.startsWith('javascript:')) found.push(`${el.tagName} ${name}=javascript:`);
    }
  }
  return found;
}"""


def assert_inert(page, where: str) -> None:
    """No dialog fired, no injected element, no event-handler attribute, no javascript: URL,
    no frame and no script but the forum's own on the page now shown."""
    page.wait_for_load_state("load")
    assert page.dialogs == [], f"a dialog fired on {where}: {page.dialogs}"
    assert page.locator("#injected").count() == 0, f"an injected element appeared on {where}"
    active = page.evaluate(_ACTIVE_CONTENT)
    assert active == [], f"active content on {where}: {active}"
