"""Signals (blinker, Flask's own signal library): how a lower area lets the areas above it react to
what happens, or contribute to its pages, without importing them.

An area declares its signals in its own module; the areas above connect their receivers in their
``init_app(app)``, which the application factory calls. ``collect`` gathers what the receivers
answered, leaving out those that answered None; ``app_answer`` the first answer of the
current app's receivers.
"""

from __future__ import annotations

from blinker import Namespace, Signal
from flask import current_app, has_app_context

signals = Namespace()


def collect(signal: Signal, sender: object, **kwargs) -> list:
    return [value for _receiver, value in signal.send(sender, **kwargs) if value is not None]


def app_answer(signal: Signal, **kwargs):
    """The first answer of the current app's receivers of ``signal`` (sent with the app as
    sender), or None when none answers or there is no app (the receivers are the app's)."""
    if not has_app_context():
        return None
    return next(iter(collect(signal, current_app._get_current_object(), **kwargs)), None)
