"""Call graphs compiled into small step objects that run by continuation.

A request class's ``calls`` and an operation's ``calls`` become a tree of steps (call, sequence,
parallel fan-out, fire-and-forget, delay, CPU work, probabilistic and repeated steps, Markov
routing). Every step has ``start(request, k, instance)``: it does its work by scheduling events
and, when it is over, calls ``k(request, ok)``. ``instance`` is the instance whose operation is
running the step (``None`` at the client). No generator process is created per request; a
sequence keeps its position in a tiny frame object.

A continuation handed on is a bound method of such a frame (``frame.answer``), not the frame
itself: CPython 3.11 calls an object through ``__call__`` about five times slower than a bound
method, and continuations run on every visit.

Failure propagates the way an HTTP error does: a failed synchronous call fails the step that made
it, a sequence stops at the first failure, a fan-out fails if any branch failed, and a
fire-and-forget call never fails its caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..distributions import uniforms
from ..scenario import model as m
from ..scenario.checks import resolve_target
from .events import Wakeup
from .station import NORMAL, Continuation, Visit


class Step:
    """Base of the compiled steps."""

    def start(self, request: Any, k: Continuation, instance: Any) -> None:  # pragma: no cover
        raise NotImplementedError


class OperationPlan:
    """An operation of a service, compiled: its CPU demand and its downstream step (or None).

    ``service_time(request)`` is the request's draw from the operation's logical source
    (:class:`~.rng.RequestDraws`), so it does not depend on when the request gets a slot."""

    __slots__ = ("service", "name", "service_time", "calls", "mean_service_time_s")

    def __init__(self, service: str, name: str, service_time: Callable[[Any], float], mean_s: float):
        self.service = service
        self.name = name
        self.service_time = service_time
        self.calls: Step | None = None
        self.mean_service_time_s = mean_s


class CallStep(Step):
    """A synchronous call: hop there, visit an instance, hop back.

    Both hops are the request's draws from the call's own logical source (its position on the
    request's path), drawn when the call starts; the return hop is handed to the visit as a
    zero-argument callable returning that number."""

    __slots__ = ("service", "operation", "hop", "schedule")

    def __init__(self, service, operation: OperationPlan, hop: Callable[[Any], float] | None, env):
        self.service = service
        self.operation = operation
        self.hop = hop
        self.schedule = env.schedule

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        visit = Visit()  # its fields, set here (see Visit)
        visit.request = request
        visit.operation = self.operation
        visit.k = k
        visit.ok = True
        hop = self.hop
        if hop is None:
            visit.callbacks = None
            visit.hop = None
            self.service.arrive(visit)
        else:
            there = hop(request)
            visit.hop = hop(request).__float__
            visit.callbacks = [self.service.on_arrive]
            self.schedule(visit, NORMAL, there)


class ResilientCallStep(Step):
    """A call with a per-attempt timeout and retries with exponential backoff.

    Attempt ``n`` (0-based) that fails or times out is followed, after ``backoff * multiplier**n``,
    by attempt ``n+1``, up to ``retries`` extra attempts. A timed-out attempt keeps running in the
    callee (it does not know the caller left), which is how retries amplify load. Fire-and-forget
    calls with retries model at-least-once delivery: a message whose consumer failed is delivered
    again.
    """

    __slots__ = ("inner", "timeout", "retries", "backoff", "multiplier", "schedule", "attempts", "failures")

    def __init__(self, inner: Step, timeout: float | None, retries: int, backoff: Callable[[], float], multiplier: float, env):
        self.inner = inner
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.multiplier = multiplier
        self.schedule = env.schedule
        self.attempts = 0  #: Attempts made (all requests), for retry-amplification measurements.
        self.failures = 0  #: Calls that failed after their last attempt.

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        _CallAttempts(self, request, k, instance).attempt()


class _CallAttempts:
    __slots__ = ("step", "request", "k", "instance", "n", "done")

    def __init__(self, step: ResilientCallStep, request, k, instance):
        self.step = step
        self.request = request
        self.k = k
        self.instance = instance
        self.n = 0
        self.done = False

    def attempt(self) -> None:
        step = self.step
        step.attempts += 1
        answer = _AttemptAnswer(self, self.n)
        if step.timeout is not None:
            self.step.schedule(Wakeup(_expire, answer), NORMAL, step.timeout)
        step.inner.start(self.request, answer.answer, self.instance)

    def settle(self, n: int, ok: bool) -> None:
        if self.done or n != self.n:
            return  # an earlier attempt answering after it was given up on
        if ok:
            self.done = True
            self.k(self.request, True)
        elif self.n < self.step.retries:
            delay = self.step.backoff() * self.step.multiplier**self.n
            self.n += 1
            if delay > 0:
                self.step.schedule(Wakeup(_CallAttempts.attempt, self), NORMAL, delay)
            else:
                self.attempt()
        else:
            self.done = True
            self.step.failures += 1
            self.k(self.request, False)


class _AttemptAnswer:
    __slots__ = ("attempts", "n")

    def __init__(self, attempts: _CallAttempts, n: int):
        self.attempts = attempts
        self.n = n

    def answer(self, request: Any, ok: bool) -> None:
        self.attempts.settle(self.n, ok)


def _expire(answer: "_AttemptAnswer") -> None:
    answer.attempts.settle(answer.n, False)


def _resume(payload: tuple[Any, Continuation]) -> None:
    request, k = payload
    k(request, True)


class AsyncStep(Step):
    """Fire-and-forget: start the call and carry on at once; report the branch when it ends."""

    __slots__ = ("inner", "on_done")

    def __init__(self, inner: Step, on_done: Continuation):
        self.inner = inner
        self.on_done = on_done

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        self.inner.start(request, self.on_done, instance)
        k(request, True)


class _SequenceFrame:
    """Runs the steps in a loop, not by recursion: a step that answers at once (an async call, a
    skipped probability) only marks the frame, and the loop starts the next one. So a sequence of
    1,000 async calls uses one stack frame, not 3,000."""

    __slots__ = ("steps", "k", "instance", "i", "looping", "answered")

    def __init__(self, steps, k, instance):
        self.steps = steps
        self.k = k
        self.instance = instance
        self.i = -1
        self.looping = False
        self.answered = False

    def answer(self, request: Any, ok: bool) -> None:
        """The continuation of the current step: start the next one, or answer the caller."""
        self.i += 1
        if not ok or self.i == len(self.steps):
            self.k(request, ok)
            return
        if self.looping:  # answered inside start() below: the loop starts the next step
            self.answered = True
            return
        self.looping = True
        while True:
            self.answered = False
            self.steps[self.i].start(request, self.answer, self.instance)
            if not self.answered:
                break
        self.looping = False


class SequenceStep(Step):
    """Steps one after another; stops at the first failure."""

    __slots__ = ("steps",)

    def __init__(self, steps: list[Step]):
        self.steps = steps

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        _SequenceFrame(self.steps, k, instance).answer(request, True)


class _JoinFrame:
    __slots__ = ("remaining", "ok", "k")

    def __init__(self, remaining, k):
        self.remaining = remaining
        self.ok = True
        self.k = k

    def answer(self, request: Any, ok: bool) -> None:
        if not ok:
            self.ok = False
        self.remaining -= 1
        if self.remaining == 0:
            self.k(request, self.ok)


class ParallelStep(Step):
    """Fan-out: all branches at once; done when the last answers; failed if any failed."""

    __slots__ = ("branches",)

    def __init__(self, branches: list[Step]):
        self.branches = branches

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        answer = _JoinFrame(len(self.branches), k).answer
        for branch in self.branches:
            branch.start(request, answer, instance)


class DelayStep(Step):
    """Time passes without using a core."""

    __slots__ = ("sample", "schedule")

    def __init__(self, sample: Callable[[], float], env):
        self.sample = sample
        self.schedule = env.schedule

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        self.schedule(Wakeup(_resume, (request, k)), NORMAL, self.sample())


class WorkStep(Step):
    """CPU work on the instance running the operation: the request's draw from its logical source."""

    __slots__ = ("sample",)

    def __init__(self, sample: Callable[[Any], float]):
        self.sample = sample

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        instance.work(request, self.sample(request), k)


class MaybeStep(Step):
    """The inner step happens with probability ``p``; otherwise it is skipped (successfully)."""

    __slots__ = ("inner", "p", "uniform")

    def __init__(self, inner: Step, p: float, uniform: Callable[[], float]):
        self.inner = inner
        self.p = p
        self.uniform = uniform

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        if self.uniform() < self.p:
            self.inner.start(request, k, instance)
        else:
            k(request, True)


class _RepeatFrame:
    __slots__ = ("step", "k", "instance")

    def __init__(self, step, k, instance):
        self.step = step
        self.k = k
        self.instance = instance

    def answer(self, request: Any, ok: bool) -> None:
        if ok and self.step.uniform() < self.step.q:
            self.step.inner.start(request, self.answer, self.instance)
        else:
            self.k(request, ok)


class RepeatStep(Step):
    """After the inner step, do it again with probability ``q`` (a geometric number of visits)."""

    __slots__ = ("inner", "q", "uniform")

    def __init__(self, inner: Step, q: float, uniform: Callable[[], float]):
        self.inner = inner
        self.q = q
        self.uniform = uniform

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        self.inner.start(request, _RepeatFrame(self, k, instance).answer, instance)


class RouteStep(Step):
    """Markov routing between services (a Jackson network): after each visit, pick the next or leave."""

    def __init__(self, calls: list[CallStep], start: np.ndarray, after: np.ndarray, uniform: Callable[[], float]):
        self.calls = calls
        self.start_cdf = np.cumsum(start).tolist()
        # row i: cumulative probabilities of going to each station after station i; remainder leaves
        self.after_cdf = [np.cumsum(row).tolist() for row in after]
        self.uniform = uniform

    @staticmethod
    def _pick(cdf: list[float], u: float) -> int:
        for j, c in enumerate(cdf):
            if u < c:
                return j
        return -1

    def start(self, request: Any, k: Continuation, instance: Any) -> None:
        j = self._pick(self.start_cdf, self.uniform())
        if j < 0:
            j = len(self.start_cdf) - 1  # rounding at the top of the cumulative sum
        self.calls[j].start(request, _RouteHop(self, k, j).answer, instance)


class _RouteHop:
    __slots__ = ("route", "k", "at")

    def __init__(self, route: RouteStep, k: Continuation, at: int):
        self.route = route
        self.k = k
        self.at = at

    def answer(self, request: Any, ok: bool) -> None:
        route = self.route
        if not ok:
            self.k(request, False)
            return
        j = route._pick(route.after_cdf[self.at], route.uniform())
        if j < 0:
            self.k(request, True)
        else:
            self.at = j
            route.calls[j].start(request, self.answer, None)


# --- compilation -----------------------------------------------------------------------------


class Compiler:
    """Turns validated call-graph models into steps bound to one simulation's services."""

    def __init__(self, env, scenario: m.Scenario, services: dict, operations: dict, streams, on_async_done: Continuation):
        self.env = env
        self.scenario = scenario
        self.services = services
        self.operations = operations  # (service, op) -> OperationPlan
        self.streams = streams
        self.on_async_done = on_async_done
        self._uniforms: dict[str, Callable[[], float]] = {}
        self.resilient: list[tuple[str, ResilientCallStep]] = []  #: Calls with retries/timeouts, by where they are.
        self.breakers: list = []  #: ``(where, CircuitBreakerStep)`` of calls with a circuit breaker.
        self.latency = scenario.network.latency
        self.client_latency = scenario.network.client_latency or self.latency

    def hop(self, source: str, where: str = "") -> Callable[[Any], float] | None:
        """The network hops of calls at ``source`` (a position on the request's path), by request.

        Calls a request class makes itself (``where`` under ``classes.``) cross the client's
        network (``network.client_latency``); calls between services cross ``network.latency``.
        """
        latency = self.client_latency if where.startswith("classes.") else self.latency
        if latency.mean == 0 and latency.variance == 0:
            return None
        return self.streams.per_request(f"network:{source}", latency)

    def uniform(self, name: str) -> Callable[[], float]:
        sampler = self._uniforms.get(name)
        if sampler is None:
            sampler = uniforms(self.streams(f"branch:{name}"))
            self._uniforms[name] = sampler
        return sampler

    def steps(self, specs: list, where: str) -> Step | None:
        compiled = [self.step(spec, f"{where}[{i}]") for i, spec in enumerate(specs)]
        if not compiled:
            return None
        return compiled[0] if len(compiled) == 1 else SequenceStep(compiled)

    def step(self, spec, where: str) -> Step:
        if isinstance(spec, m.Call):
            service, operation = resolve_target(self.scenario, spec.call)  # validated already
            inner: Step = CallStep(self.services[service], self.operations[(service, operation)], self.hop(spec.stream or where, where), self.env)
            if spec.circuit_breaker is not None:
                from .breaker import CircuitBreakerStep  # only scenarios with breakers load it

                inner = CircuitBreakerStep(inner, spec.circuit_breaker, self.env)
                self.breakers.append((where, inner))
            if spec.retries or spec.timeout_s is not None:
                backoff = spec.retry_backoff.sampler(self.streams(f"backoff:{where}"))
                inner = ResilientCallStep(inner, spec.timeout_s, spec.retries, backoff, spec.backoff_multiplier, self.env)
                self.resilient.append((where, inner))
            if spec.repeat_probability > 0:
                inner = RepeatStep(inner, spec.repeat_probability, self.uniform(where + ":repeat"))
            if spec.mode == "async":
                inner = AsyncStep(inner, self.on_async_done)
        elif isinstance(spec, m.Parallel):
            inner = ParallelStep([self.step(b, f"{where}.parallel[{i}]") for i, b in enumerate(spec.parallel)])
        elif isinstance(spec, m.Delay):
            inner = DelayStep(spec.delay.sampler(self.streams(f"delay:{where}")), self.env)
        elif isinstance(spec, m.Work):
            inner = WorkStep(self.streams.per_request(f"work:{spec.stream or where}", spec.work))
        else:  # pragma: no cover - the model admits no other step
            raise TypeError(f"unknown step {spec!r}")
        if spec.probability < 1:
            inner = MaybeStep(inner, spec.probability, self.uniform(where + ":maybe"))
        return inner

    def route(self, route: m.Route, where: str) -> RouteStep:
        targets: list[tuple[str, str]] = []
        for name in list(route.start) + [t for row in route.after.values() for t in row] + list(route.after):
            target = resolve_target(self.scenario, name)
            if target not in targets:
                targets.append(target)
        index = {t: i for i, t in enumerate(targets)}
        n = len(targets)
        start = np.zeros(n)
        for name, p in route.start.items():
            start[index[resolve_target(self.scenario, name)]] += p
        after = np.zeros((n, n))
        for src, row in route.after.items():
            i = index[resolve_target(self.scenario, src)]
            for name, p in row.items():
                after[i, index[resolve_target(self.scenario, name)]] += p
        calls = [CallStep(self.services[s], self.operations[(s, o)], self.hop(f"{where}:{s}.{o}", where), self.env) for s, o in targets]
        return RouteStep(calls, start, after, self.uniform(where))
