"""Permission decorators for views: who may open a page, checked before the view does any work.

``requires(action)`` reads the one permission table (forum.core.policy): logged-in, active
accounts whose role the table allows get through; others get 403 (anonymous visitors are sent to
log in first)."""

from __future__ import annotations

import functools

from flask import abort
from flask_login import current_user, login_required

from forum.core.policy import Action, allows


def requires(action: Action):
    """Allow the view only to accounts that the permission table allows ``action``."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not allows(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_action = action  # what the authorisation test matrix reads
        return wrapper

    return decorator

