"""The structure the code keeps: areas import only downward (the import-linter contracts in
pyproject.toml), the trail's verifier loads without Flask or the database, nothing is wired by
importing a module for its side effects, and no listener hangs on SQLAlchemy's Session class."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from importlinter.cli import lint_imports
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "forum"


def test_areas_import_only_downward(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert "BROKEN" not in output


def test_the_trail_verifier_loads_without_flask_or_the_database():
    loaded = subprocess.run(
        [sys.executable, "-c", "import json, sys, forum.trail.chain; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    modules = json.loads(loaded.stdout)
    assert not [m for m in modules if m.split(".")[0] in ("flask", "sqlalchemy", "werkzeug", "jinja2")]
    assert [m for m in modules if m.startswith("forum")] == ["forum", "forum.trail", "forum.trail.chain"]


def test_no_module_is_imported_only_for_its_side_effects():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "noqa: F401" in line
    ]
    assert offenders == []


def test_no_listener_hangs_on_the_session_class(app):
    """Listeners attach to the app's own session factory (each area's init_app), so a session
    made elsewhere carries none of them and two apps do not share them."""
    bare = Session()
    for name in ("after_flush", "after_commit", "after_rollback", "after_transaction_end"):
        assert list(getattr(bare.dispatch, name)) == [], name
    ours = app.extensions["forum.sessionmaker"]()
    assert list(ours.dispatch.after_flush), "the app's sessions keep the standing and search index current"


def test_the_tree_passes_ruff():
    """The lint rules of [tool.ruff] in pyproject.toml (pycodestyle, pyflakes, import order)."""
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                             capture_output=True, text=True, cwd=ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
