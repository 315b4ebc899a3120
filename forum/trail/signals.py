"""What the trail tells the other areas.

``event_recorded`` is sent by ``forum.trail.service.record`` after each appended event, inside the
change's transaction, with the session as sender and ``actor``, ``event`` and ``data`` as
keywords. A receiver may add rows of its own (notifications) but never writes events; an
exception in a receiver rolls back the change with its event. Receivers connect in their area's
``init_app``.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

event_recorded = signals.signal("trail.event-recorded")
