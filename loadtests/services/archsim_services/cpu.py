"""Real CPU cost per operation, and the CPU time each request actually used.

The service demand that calibration needs is CPU seconds per request. Sleeping would cost no CPU,
so :func:`burn` hashes until the calling thread has used the configured CPU time. A request's own
CPU time is measured by :class:`Metered`, which drives the request's coroutine step by step and
reads the thread CPU clock around each step: asyncio runs one step at a time on one thread, so the
sum of those slices is exactly this request's CPU time, whatever else is in flight.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Coroutine
from typing import Any

DEFAULT_CPU_MS: dict[str, float] = {
    "browse": 1.0,
    "add_to_cart": 1.0,
    "place_order": 1.0,
    "inventory": 0.5,
    "payment": 1.0,
    "notification": 0.5,
    "order_status": 0.5,
}  #: CPU milliseconds burnt per operation unless ``ARCHSIM_CPU_MS_<OPERATION>`` says otherwise.


def cpu_ms(operation: str) -> float:
    """The configured CPU milliseconds for ``operation`` (env ``ARCHSIM_CPU_MS_<OPERATION>``)."""
    raw = os.environ.get(f"ARCHSIM_CPU_MS_{operation.upper()}")
    return float(raw) if raw is not None else DEFAULT_CPU_MS.get(operation, 0.0)


def burn(operation: str) -> float:
    """Hash until this thread has used ``cpu_ms(operation)`` of CPU; return the ms actually used."""
    target_s = cpu_ms(operation) / 1000.0
    start = time.thread_time()
    digest = operation.encode()
    while time.thread_time() - start < target_s:
        for _ in range(50):
            digest = hashlib.sha256(digest).digest()
    return (time.thread_time() - start) * 1000.0


class Metered:
    """Await a coroutine while adding up the thread CPU time of each of its steps."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any]):
        self._coroutine = coroutine
        self.cpu_s = 0.0  #: CPU seconds used by the coroutine so far.

    def __await__(self):
        coroutine = self._coroutine
        value: Any = None
        error: BaseException | None = None
        while True:
            start = time.thread_time()
            try:
                if error is None:
                    awaited = coroutine.send(value)
                else:
                    awaited = coroutine.throw(error)
            except StopIteration as done:
                return done.value
            finally:
                self.cpu_s += time.thread_time() - start
            try:
                value, error = (yield awaited), None
            except BaseException as raised:  # delivered into the coroutine on the next step
                value, error = None, raised
