"""The documentation holds together and stays inside the repository.

- Every relative link in README.md, CONTRIBUTING.md and docs/*.md names a file that exists in the
  repository, and every ``#anchor`` names a heading of its target (GitHub's heading ids).
- Every repository path the documents name in code spans (``forum/trail/chain.py``) exists, so a
  moved or renamed file shows up here until the documents follow.
- No tracked file refers to documents outside the repository, and no code cites issue numbers:
  a clone must be readable on its own (see CONTRIBUTING.md, "Documentation").
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]

# Written in pieces so that this file does not match itself.
OUTSIDE_REFERENCES = ("../" + "shared", "/work/" + "shared", "DESIGN" + ".md", "STYLE" + ".md")
ISSUE_CITATION = re.compile(r"\bissues?\s+#?\d+\b|\(#\d+\)", re.IGNORECASE)

_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_REPO_PATH = re.compile(r"(?:forum|tests|bench|migrations|templates|seed|docs)/[\w./-]*")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto: …


def prose_lines(text: str):
    """(line number, line) of the Markdown outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's id for a heading: the text without Markdown, lower case, punctuation dropped
    (letters, digits, ``_`` and ``-`` stay), spaces turned into hyphens."""
    text = _CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The ids of the headings of a Markdown file (repeats get -1, -2 … as on GitHub)."""
    seen: dict[str, int] = {}
    found = set()
    for _number, line in prose_lines(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path):
    """(line number, target) of every link in the prose of a Markdown file."""
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for match in _LINK.finditer(_CODE_SPAN.sub("", line)):
            yield number, match.group(1)


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the relative links of ``path``: a missing file, a target outside
    ``root``, or an anchor that is no heading of its Markdown target."""
    problems = []
    for number, target in links(path):
        if _EXTERNAL.match(target):
            continue
        where = f"{path.relative_to(root)}:{number}: {target}"
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.is_relative_to(root):
            problems.append(f"{where}: points outside the repository")
            continue
        if not resolved.exists():
            problems.append(f"{where}: no such file")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{where}: no heading with the id {anchor!r} in {resolved.name}")
    return problems


def missing_paths(path: Path, root: Path = ROOT) -> list[str]:
    """Repository paths named in the code spans of ``path`` (outside fenced blocks) that do not
    exist. Spans with placeholders (``forum/<area>/``) are not paths and are left alone."""
    problems = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for match in _CODE_SPAN.finditer(line):
            named = match.group(2).strip()
            if _REPO_PATH.fullmatch(named) and not (root / named).exists():
                problems.append(f"{path.relative_to(root)}:{number}: {named} does not exist")
    return problems


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [ROOT / name for name in listed.stdout.decode("utf-8").split("\0") if name]


def text_of(path: Path) -> str | None:
    """The file as text, or None for a binary file (or one deleted but not yet committed)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


# ------------------------------------------------------------------------------------ the docs
def test_the_documents_exist():
    names = {path.relative_to(ROOT).as_posix() for path in DOCS}
    for name in ("README.md", "CONTRIBUTING.md", "docs/architecture.md", "docs/trail.md",
                 "docs/evidence.md", "docs/operations.md", "docs/api.md"):
        assert name in names, f"{name} is missing"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(path):
    assert list(links(path)), f"{path.name} links to nothing: is the link pattern still right?"
    assert broken_links(path) == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_named_repository_path_exists(path):
    assert missing_paths(path) == []


def test_the_path_check_finds_moved_files(tmp_path):
    (tmp_path / "forum").mkdir()
    (tmp_path / "forum" / "here.py").write_text("")
    page = tmp_path / "page.md"
    page.write_text("`forum/here.py` `forum/gone.py` `forum/<area>/` `pip install -e .`\n"
                    "```\n`forum/in-a-block.py`\n```\n")
    assert missing_paths(page, root=tmp_path) == ["page.md:1: forum/gone.py does not exist"]


def test_the_link_check_finds_broken_links_and_anchors(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading, with punctuation!\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[fine](other.md) [fine anchor](other.md#a-code-heading-with-punctuation) [self](#page)\n"
        "[missing file](nowhere.md) [missing anchor](other.md#no-such-heading)\n"
        "[outside](../../etc/passwd) [web](https://example.com/x.md)\n"
        "```sh\n[in a code block](ignored.md)\n# not a heading\n```\n"
        "`[in a code span](ignored.md)` [bad self](#not-a-heading)\n"
    )
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 4, problems
    assert "page.md:4: nowhere.md: no such file" in problems[0]
    assert "no heading with the id 'no-such-heading'" in problems[1]
    assert "points outside the repository" in problems[2]
    assert "no heading with the id 'not-a-heading'" in problems[3]


def test_heading_ids_follow_github():
    assert slug("Who may do what") == "who-may-do-what"
    assert slug("Several instances behind a reverse proxy") == "several-instances-behind-a-reverse-proxy"
    assert slug("The `forum` command") == "the-forum-command"
    assert slug("Auditors' pages") == "auditors-pages"
    assert slug("lm-evaluation-harness") == "lm-evaluation-harness"
    assert slug("JUnit XML (`pytest --junitxml`, xunit1)") == "junit-xml-pytest---junitxml-xunit1"


# ------------------------------------------------------------------------- a self-contained repo
def test_no_tracked_file_refers_outside_the_repository():
    found = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for reference in OUTSIDE_REFERENCES:
                if reference in line:
                    found.append(f"{path.relative_to(ROOT)}:{number}: {reference}")
    assert found == [], "files refer to documents outside the repository:\n" + "\n".join(found)


def test_no_code_cites_issue_numbers():
    found = []
    for path in tracked_files():
        relative = path.relative_to(ROOT)
        if relative.suffix != ".py" or relative.parts[0] not in ("forum", "tests", "bench"):
            continue
        text = text_of(path)
        for number, line in enumerate((text or "").splitlines(), start=1):
            if ISSUE_CITATION.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == [], "say what the code does instead of citing an issue:\n" + "\n".join(found)


def test_the_reference_checks_match_what_they_should():
    # Written in pieces so that this file does not match itself.
    assert ISSUE_CITATION.search("the load benchmark (iss" + "ue #10)")
    assert ISSUE_CITATION.search("a target of iss" + "ue 4")
    assert ISSUE_CITATION.search("evidence (" + "#4)")
    assert not ISSUE_CITATION.search("html = '&#39;overlord&#39;'")
    assert not ISSUE_CITATION.search("f'#{item.id} {item.title}'")
