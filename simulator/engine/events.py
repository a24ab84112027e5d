"""A bare SimPy event: at its time, call one function with one payload.

SimPy's scheduler needs only two attributes of an event: ``callbacks`` (a list of functions,
each called with the event) and ``_ok``. Timers that resume a continuation, retries, timeouts and
controller ticks are all "at time t, call f(x)"; this one class serves them all, without the cost
of a generator process. (Visits and requests, the per-request objects, are their own events for
the same reason: see :mod:`.station`.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NORMAL = 1  #: SimPy's priority for ordinary events.


class Wakeup:
    """At its scheduled time, calls ``action(payload)``."""

    __slots__ = ("callbacks", "_ok", "action", "payload")

    def __init__(self, action: Callable[[Any], None], payload: Any = None):
        self.callbacks = [_run]
        self._ok = True
        self.action = action
        self.payload = payload


def _run(event: Wakeup) -> None:
    event.action(event.payload)


def events_scheduled(env) -> int:
    """Events scheduled on ``env`` so far (SimPy numbers every scheduled event from its ``_eid``
    counter; reading it advances it, which is harmless once the run is over)."""
    return next(env._eid)


def schedule(env, delay_s: float, action: Callable[[Any], None], payload: Any = None) -> Wakeup:
    """Call ``action(payload)`` ``delay_s`` simulated seconds from now."""
    event = Wakeup(action, payload)
    env.schedule(event, NORMAL, delay_s)
    return event
