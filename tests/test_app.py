"""The application factory, settings and error pages."""

from pathlib import Path

import pytest

from forum.app import create_app
from forum.core import db
from forum.core.config import SettingsError, load_settings


def test_settings_come_from_forum_environment_variables():
    settings = load_settings(environ={"FORUM_DATABASE_URL": "postgresql://db/forum", "FORUM_ITEMS_PER_PAGE": "50"})
    assert settings["DATABASE_URL"] == "postgresql://db/forum"
    assert settings["ITEMS_PER_PAGE"] == 50


@pytest.mark.parametrize("raw", ["0", "-5"])
def test_a_search_cap_below_one_is_refused_naming_the_setting(raw, tmp_path):
    with pytest.raises(SettingsError, match="FORUM_SEARCH_HITS_PER_KIND.*positive number"):
        load_settings(environ={"FORUM_INSTANCE_PATH": str(tmp_path), "FORUM_SEARCH_HITS_PER_KIND": raw})
    from forum.search.service import HITS_PER_KIND

    # The setting's default is the search service's (the kernel's settings cannot import an area).
    assert load_settings(environ={"FORUM_INSTANCE_PATH": str(tmp_path)})["SEARCH_HITS_PER_KIND"] == HITS_PER_KIND


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    settings = load_settings(environ={"FORUM_INSTANCE_PATH": str(tmp_path)})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'forum.db'}"


def test_secret_key_is_generated_once_and_kept_in_the_instance_folder(tmp_path, database_url):
    config = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "inst"), "SECRET_KEY": ""}
    first = create_app(config)
    second = create_app(config)
    try:
        key_file = Path(first.instance_path) / "secret_key"
        assert key_file.exists()
        assert (key_file.stat().st_mode & 0o777) == 0o600
        assert len(first.config["SECRET_KEY"]) >= 64
        assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    finally:
        db.get_engine(first).dispose()
        db.get_engine(second).dispose()


def test_an_unexpected_error_shows_the_500_page_and_saves_nothing(app_config, make_user, db_session):
    from sqlalchemy import func, select

    from forum.auth.models import OrgFunction
    from forum.auth.service import create_function

    app = create_app(dict(app_config, TESTING=False))

    def boom():
        create_function(db.session(), None, "legal", "Legal")  # flushed, then the view fails
        raise RuntimeError("unexpected")

    app.add_url_rule("/boom", "boom", boom)
    try:
        response = app.test_client().get("/boom")
        assert response.status_code == 500
        text = response.get_data(as_text=True)
        assert "Something went wrong" in text and "Nothing was saved" in text
        assert db_session.scalar(select(func.count()).select_from(OrgFunction).where(OrgFunction.key == "legal")) == 0
    finally:
        db.get_engine(app).dispose()


def test_health_check_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_the_production_entry_point_compiles_every_template_and_freezes_the_startup_objects(tmp_path, database_url):
    """``forum.wsgi:app`` (what gunicorn serves) has every page template compiled before its first
    request and the objects of its start frozen out of the garbage collector; it answers. Run in a
    process of its own: freezing would keep the test process's objects for good."""
    import json
    import os
    import subprocess
    import sys

    probe = (
        "import gc, json\n"
        "import forum.wsgi as w\n"
        "env = w.app.jinja_env\n"
        "names = env.list_templates(filter_func=lambda n: n.endswith('.html'))\n"
        "compiled = {key[1] for key in env.cache.keys()}\n"
        "answer = w.app.test_client().get('/healthz')\n"
        "print(json.dumps({'templates': len(names), 'missing': sorted(set(names) - compiled),\n"
        "                  'frozen': gc.get_freeze_count(), 'status': answer.status_code}))\n"
    )
    env = dict(os.environ, FORUM_DATABASE_URL=database_url, FORUM_SECRET_KEY="wsgi-test",
               FORUM_INSTANCE_PATH=str(tmp_path / "instance"))
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["templates"] > 50 and facts["missing"] == []
    assert facts["frozen"] > 50_000  # the modules, templates and app: without the freeze, 0
    assert facts["status"] == 200
