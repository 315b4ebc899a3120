"""The Alembic migrations, installed as the package ``forum.migrations`` (forum.migrate finds this
folder with importlib.resources; Alembic itself loads env.py and versions/ by path)."""
