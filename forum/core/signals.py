"""Signals (blinker, Flask's own signal library): how a lower area lets the areas above it react to
what happens, or contribute to its pages, without importing them.

An area declares its signals in its own module; the areas above connect their receivers in their
``init_app(app)``, which the application factory calls. ``collect`` gathers what the receivers
answered, leaving out those that answered None.
"""

from __future__ import annotations

from blinker import Namespace, Signal

signals = Namespace()


def collect(signal: Signal, sender: object, **kwargs) -> list:
    return [value for _receiver, value in signal.send(sender, **kwargs) if value is not None]
