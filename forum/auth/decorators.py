"""Permission decorators for views: who may open a page, checked before the view does any work."""

from __future__ import annotations

import functools

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles: str):
    """Allow the view only to logged-in, active users with one of ``roles`` (403 otherwise).
    Checked before the view does any work."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
