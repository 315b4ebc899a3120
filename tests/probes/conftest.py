"""The probe tests talk to a real OpenAI-compatible server (tests/modelserver.py) on 127.0.0.1,
started once per test module; the forum allows its host, with a 64 KB cap on answers."""

from __future__ import annotations

import pytest

from forum.systems import service as systems
from tests.modelserver import ModelServer

KEY = "sekret-test-key"


@pytest.fixture(scope="module")
def model_server():
    with ModelServer(key=KEY) as server:
        yield server


@pytest.fixture
def app_config(app_config, model_server):
    return {**app_config, "PROBE_HOSTS": f"127.0.0.1:{model_server.port}, models.example.org",
            "PROBE_MAX_ANSWER_BYTES": 64 * 1024}


@pytest.fixture
def people(make_user):
    return {"admin": make_user("admin", function=None, name="Ada Admin"),
            "exec": make_user("executive", function=None, name="Erin Exec"),
            "staff": make_user(function="risk", name="Sam Staff"),
            "auditor": make_user("auditor", function=None, name="Audrey Auditor")}


@pytest.fixture
def support(db_session, people):
    system = systems.create_system(db_session, people["staff"], systems.SystemData(
        name="Support assistant", owner_function="risk", vendor="Acme AI", model_name="support-llm"), "2026.10")
    db_session.commit()
    return system
