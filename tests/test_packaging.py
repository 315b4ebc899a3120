"""The wheel installs and runs on its own: `python -m build --wheel` on a clean copy of the checkout,
the wheel installed with its dependencies into a new virtual environment outside the checkout, then
`forum init` and `forum demo` run from folders outside it: migrations apply, the demo data loads,
pages render. Without the postgresql and redis extras, the forum names the extra a setting needs.

About a minute (most of it installing the dependencies from the package index pip is configured
with); `pytest -m "not packaging"` leaves it out.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from tests.liveserver import free_port, wait_until_serving

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
# A clean clone: no version-control data, caches, build output, instance folders or databases.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".*", "__pycache__", "*.py[cod]", "build", "dist", "*.egg-info", "instance", "test-artifacts",
    "*.db", "*.sqlite",
)
ADMIN_PASSWORD = "a long packaging-test passphrase"


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                            timeout=300, **kwargs)
    assert result.returncode == 0, f"{command} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def app_env(**extra: str) -> dict[str, str]:
    """The environment without this test run's FORUM_* settings or Python path."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("FORUM_") and name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("packaging")
    assert not folder.resolve().is_relative_to(ROOT)
    return folder


@pytest.fixture(scope="module")
def wheel(workdir) -> Path:
    source = workdir / "source"
    shutil.copytree(ROOT, source, ignore=NOT_IN_A_CLONE)
    run([sys.executable, "-m", "build", "--wheel", "--outdir", workdir / "dist", source])
    (built,) = (workdir / "dist").glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(workdir, wheel) -> Path:
    """A new virtual environment (no site packages of this one) with the wheel and its dependencies."""
    folder = workdir / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", folder])
    run([sys.executable, "-m", "pip", "--python", folder / "bin" / "python", "install", "--quiet", wheel],
        env=app_env())
    return folder


def migrations_head() -> str:
    return ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def test_the_wheel_carries_templates_migrations_and_demo_data_but_no_tests_bytecode_or_databases(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    def shipped(folder: str, package: str) -> set[str]:
        return {f"{package}/{path.relative_to(ROOT / folder).as_posix()}"
                for path in (ROOT / folder).rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}

    assert shipped("templates", "forum/templates") <= names
    assert shipped("migrations", "forum/migrations") <= names
    assert shipped("seed", "forum_seed") <= names
    assert "forum_seed/demo.py" in names and "forum_seed/scale.py" in names
    assert not {"forum/seed.py", "forum/scale.py"} & names  # the generators left the runtime package
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {
        "forum", "forum_seed"}
    unwanted = [name for name in names
                if re.search(r"(^|/)(tests?|conftest\.py|test_[^/]*\.py|__pycache__|instance)(/|$)", name)
                or name.endswith((".pyc", ".pyo", ".db", ".sqlite", ".sqlite3"))]
    assert unwanted == []


def test_the_installed_forum_runs_from_the_environment_not_the_checkout(venv, workdir):
    where = run([venv / "bin" / "python", "-c", "import forum, forum_seed; print(forum.__file__); "
                 "print(forum_seed.__file__)"], cwd=workdir, env=app_env()).stdout.split()
    site_packages = next((venv / "lib").glob("python3.*/site-packages"))
    assert [Path(path).parent.parent for path in where] == [site_packages, site_packages]


def test_forum_init_outside_the_checkout_migrates_a_database_in_the_working_directory(venv, workdir):
    place = workdir / "init"
    place.mkdir()
    result = run([venv / "bin" / "forum", "init", "--email", "admin@example.org", "--name", "Admin",
                  "--password-env", "ADMIN_PASSWORD"], cwd=place, env=app_env(ADMIN_PASSWORD=ADMIN_PASSWORD))
    assert "Database at head" in result.stdout

    database = place / "instance" / "forum.db"  # the default instance folder: ./instance
    with sqlite3.connect(database) as connection:
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        users = connection.execute("SELECT email, role FROM users").fetchall()
    assert version == migrations_head()
    assert users == [("admin@example.org", "admin")]
    assert (place / "instance" / "secret_key").is_file()
    assert not list(venv.rglob("instance"))


def test_forum_demo_outside_the_checkout_loads_the_demo_and_serves_its_pages(venv, workdir):
    place = workdir / "demo"
    place.mkdir()
    demo_items = len(json.loads((ROOT / "seed" / "demo.json").read_text(encoding="utf-8"))["items"])
    port = free_port()
    log = place / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(venv / "bin" / "forum"), "demo", "--port", str(port)], cwd=place,
                                   env=app_env(), stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{base}/login", process, log)
            assert re.search(rf"New database: demo data loaded \(3 functions, \d+ users, {demo_items} items",
                             log.read_text())

            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
            with opener.open(f"{base}/login") as response:
                assert response.status == 200
                page = response.read().decode()
            assert "<h1>Log in</h1>" in page
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            body = urllib.parse.urlencode(
                {"email": "procurement@example.com", "password": "forum-demo", "csrf_token": token}).encode()
            with opener.open(f"{base}/login", data=body) as response:
                assert response.status == 200
                assert "Items I filed" in response.read().decode()
            with opener.open(f"{base}/items") as response:
                assert response.status == 200
                assert re.search(r"\b[1-9]\d* items?\b", response.read().decode())
        finally:
            process.terminate()
            process.wait(timeout=10)

    manifest = json.loads((ROOT / "seed" / "evidence" / "manifest.json").read_text(encoding="utf-8"))
    with sqlite3.connect(place / "instance" / "forum.db") as connection:
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        (items,) = connection.execute("SELECT count(*) FROM decision_items").fetchone()
        (runs,) = connection.execute("SELECT count(*) FROM evidence_runs").fetchone()
    assert version == migrations_head()
    assert items == demo_items
    assert runs >= len(manifest["runs"])  # the evidence files of seed/evidence were found and attached


@pytest.mark.parametrize(("variable", "value", "module", "extra"), [
    ("FORUM_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test", "psycopg", "postgresql"),
    ("FORUM_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379", "redis", "redis"),
])
def test_without_its_extra_a_setting_that_needs_a_driver_is_refused_naming_the_extra(
        venv, workdir, variable, value, module, extra):
    probe = subprocess.run([venv / "bin" / "python", "-c", f"import {module}"], capture_output=True)
    assert probe.returncode != 0, f"{module} is installed without the {extra} extra"

    result = subprocess.run([venv / "bin" / "forum", "users", "list"], cwd=workdir, capture_output=True,
                            text=True, env=app_env(**{variable: value}), timeout=60)
    assert result.returncode == 1
    assert f"pip install 'decision-forum[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr
