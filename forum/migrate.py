"""Alembic wiring: the configuration for this project's migrations/ folder."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from forum.search.backends import is_index_table

#: The migrations/ folder of the checkout, installed as the package forum.migrations.
MIGRATIONS = Path(str(files("forum.migrations")))


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "head", connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection), revision)


#: Indexes that their migrations build outside the models: on expressions, which the two
#: databases spell back differently (the register's groups: migration a3b4c5d6e7f8).
MIGRATION_ONLY_INDEXES = frozenset({"ix_decision_items_to_group"})


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Which database objects autogenerate and tests/test_migrations.py compare with the models:
    all but the full-text search index, which its migration builds on purpose outside the ORM
    (an FTS5 virtual table and its shadow tables on SQLite, a tsvector table on PostgreSQL), and
    the indexes on expressions (``MIGRATION_ONLY_INDEXES``)."""
    if type_ == "index":
        return name not in MIGRATION_ONLY_INDEXES
    return not (type_ == "table" and name is not None and is_index_table(name))
