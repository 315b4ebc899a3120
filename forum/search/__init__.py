"""Full-text search: one search box in the header, the /search page, one service over two
backends (SQLite FTS5, PostgreSQL tsvector), and the index kept current in each change's own
transaction. Importing the area installs the index's session hook (forum.search.index)."""

from forum.search import index as _index  # noqa: F401  (keeps the index current on every flush)
