"""A circuit breaker on a call: fail fast while the callee is failing, then probe it.

Closed: calls pass; failures and calls are counted in tumbling windows of ``window`` seconds. When
a window has at least ``min_calls`` calls and at least ``failure_ratio`` of them failed, the breaker
opens: for ``open_for`` seconds every call fails at once without reaching the callee (which sheds
the load retries would otherwise pile on it). Then it is half-open: one trial call passes (others
still fail fast); its success closes the breaker, its failure opens it again.

It wraps each attempt of a call (inside the retries), as resilience libraries usually place it, so
retries against an open breaker fail fast too. It is a call-graph step like retries and timeouts,
so the compiler builds it; its counts are reported by the platform extension (``extras.resilience``).
"""

from __future__ import annotations

from typing import Any

from .callgraph import Step
from .station import Continuation
from ..scenario.platform import CircuitBreaker

CLOSED, OPEN, HALF_OPEN = 0, 1, 2


class CircuitBreakerStep(Step):
    """The breaker around one call site."""

    __slots__ = ("inner", "env", "failure_ratio", "window_s", "min_calls", "open_for_s", "state", "window_end", "calls",
                 "fails", "open_until", "trial", "rejected", "opened")

    def __init__(self, inner: Step, spec: CircuitBreaker, env):
        self.inner = inner
        self.env = env
        self.failure_ratio = spec.failure_ratio
        self.window_s = spec.window_s
        self.min_calls = spec.min_calls
        self.open_for_s = spec.open_for_s
        self.state = CLOSED
        self.window_end = spec.window_s
        self.calls = 0
        self.fails = 0
        self.open_until = 0.0
        self.trial = False
        self.rejected = 0  #: Calls failed fast while open.
        self.opened = 0  #: Times the breaker opened.

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        now = self.env.now
        if self.state == OPEN:
            if now < self.open_until:
                self.rejected += 1
                k(request, False)
                return
            self.state = HALF_OPEN
            self.trial = False
        if self.state == HALF_OPEN:
            if self.trial:
                self.rejected += 1
                k(request, False)
                return
            self.trial = True
        self.inner.start(request, _Outcome(self, k).answer, instance)

    def record(self, ok: bool) -> None:
        now = self.env.now
        if self.state == HALF_OPEN:
            if ok:
                self.state = CLOSED
                self.calls = self.fails = 0
                self.window_end = now + self.window_s
            else:
                self._open(now)
            return
        if self.state == OPEN:
            return  # an answer to a call made before it opened
        if now >= self.window_end:
            self.calls = self.fails = 0
            self.window_end = now + self.window_s
        self.calls += 1
        if not ok:
            self.fails += 1
            if self.calls >= self.min_calls and self.fails >= self.failure_ratio * self.calls:
                self._open(now)

    def _open(self, now: float) -> None:
        self.state = OPEN
        self.open_until = now + self.open_for_s
        self.opened += 1


class _Outcome:
    __slots__ = ("breaker", "k")

    def __init__(self, breaker: CircuitBreakerStep, k: Continuation):
        self.breaker = breaker
        self.k = k

    def answer(self, request: Any, ok: bool) -> None:
        self.breaker.record(ok)
        self.k(request, ok)
