"""The stylesheets stay well-formed: balanced braces, and every section starts at the top level
(an unclosed @media block would silently hide the rules that follow it on wide screens)."""

from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "forum" / "static"


@pytest.mark.parametrize("name", ["forum.css", "print.css"])
def test_stylesheet_blocks_are_balanced(name):
    depth = 0
    for number, line in enumerate((STATIC / name).read_text().splitlines(), start=1):
        if line.startswith("/*"):
            assert depth == 0, f"{name}:{number}: a section comment inside an unclosed block"
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{name}:{number}: a closing brace without its block"
    assert depth == 0, f"{name}: {depth} block(s) never closed"
