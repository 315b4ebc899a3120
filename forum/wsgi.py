"""The entry point for production WSGI servers: ``gunicorn 'forum.wsgi:app'``.

It builds the app from the environment (as ``forum.app:create_app()`` does) and then readies the
worker process for a long life of requests:

- **Every template is compiled now**, not by the first request that renders it (up to tens of
  milliseconds each, paid by whoever comes first after a start or a deploy).
- **What exists now is frozen out of the garbage collector** (``gc.freeze()``): the modules,
  the compiled templates, the app and its URL map are about 150,000 objects that live as long
  as the process. Left in the collector's oldest generation, every full collection walked them
  all, about 50 ms at a time, once every hundred requests or so (docs/BENCHMARKS.md, "Garbage
  collection"). Frozen, they are never walked again; what requests create is collected as
  before.

Tests and the CLI call ``create_app`` and never import this module.
"""

from __future__ import annotations

import gc

from flask import Flask

from forum.app import create_app


def ready(app: Flask) -> Flask:
    """Compile ``app``'s templates and freeze the objects that exist now out of the collector."""
    env = app.jinja_env
    for name in env.list_templates(filter_func=lambda name: name.endswith(".html")):
        env.get_template(name)
    gc.collect()  # what is garbage already goes now, rather than being frozen with the rest
    gc.freeze()
    return app


app = ready(create_app())
