"""The engine's side of SimPy: bare events, the clock, the event loop (SimPy's internals live here).

SimPy's scheduler needs only two attributes of an event: ``callbacks`` (a list of functions,
each called with the event) and ``_ok``. Timers that resume a continuation, retries, timeouts and
controller ticks are all "at time t, call f(x)"; this one class serves them all, without the cost
of a generator process. (Visits and requests, the per-request objects, are their own events for
the same reason: see :mod:`.station`.)

This is the one module that touches SimPy's private attributes: the clock ``_now``, the event
counter ``_eid`` and the event queue ``_queue``, in :class:`Environment` (the engine's clock and
event loop) and :func:`events_scheduled`. ``tests/test_private_apis.py`` fails with a clear message
if a SimPy release lays them out differently, and confines their use to this file.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy

NORMAL = 1  #: SimPy's priority for ordinary events.
URGENT = 0  #: SimPy's priority for events that go before ordinary ones at the same time.


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


class _Stop:
    """The marker at the end of :meth:`Environment.run_until` (an event that nothing listens to)."""

    __slots__ = ("callbacks", "_ok")

    def __init__(self):
        self.callbacks: list = []
        self._ok = True


class Environment(simpy.Environment):
    """SimPy's environment with the clock as a plain attribute and a leaner event loop.

    The clock: SimPy keeps it in ``_now`` behind a property ``now``, a Python call on every read
    (about 40 ns more than an attribute here); the engine reads it on every admission and
    completion, 18 times per request of a 5-station tandem. Here ``now`` is a slot and ``_now`` a
    property over it, so SimPy's own code, which reads and writes ``_now``, sees the same clock,
    and the engine reads the public ``env.now`` at the cost of an attribute. (The engine's
    objects work on a plain ``simpy.Environment`` too, only slower.)

    The loop: :meth:`run_until` is ``run(until=...)`` without a method call per event.
    """

    __slots__ = ("now",)

    @property
    def _now(self) -> float:
        return self.now

    @_now.setter
    def _now(self, time_s: float) -> None:
        self.now = time_s

    def schedule(self, event: Any, priority: int = NORMAL, delay: float = 0) -> None:
        """SimPy's ``schedule``, reading the clock from the slot."""
        heappush(self._queue, (self.now + delay, priority, next(self._eid), event))

    def run_until(self, at_s: float) -> None:
        """Process every event before ``at_s`` (and the urgent ones at ``at_s``): SimPy's
        ``run(until=at_s)``, event for event.

        SimPy's loop calls ``step()`` once per event; the engine's events are bare and many, so
        the call is a visible share of a run. This loop pops the same queue in the same order and
        runs the same callbacks; a failed event that nobody defused raises as in ``step()``. The
        stop marker is scheduled and, once reached, scheduled again at priority -1, as SimPy does
        with its ``until`` event, so the event numbers (and :func:`events_scheduled`) are SimPy's.
        """
        if at_s <= self.now:
            raise ValueError(f"until ({at_s}) must be greater than the current simulation time")
        stop = _Stop()
        self.schedule(stop, URGENT, at_s - self.now)
        queue = self._queue
        while True:
            self.now, _, _, event = heappop(queue)
            if event is stop:
                self.schedule(stop, -1)
                return
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
