"""Where requests come from: an open arrival process or a closed population of users.

Open: a Poisson (or evenly spaced) stream whose rate may follow a profile and spikes. A
time-varying Poisson process is generated exactly by thinning (Lewis & Shedler 1979): candidates
arrive at the peak rate and each is kept with probability rate(t) / peak.

Closed: ``users`` users, each sending a request, waiting for the answer (or its timeout), thinking
for a drawn time and starting again, like Locust's users; they are spawned at ``spawn_rate``.

A request is its own arrival event (see :mod:`.station` for why objects double as events).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..distributions import batched
from ..scenario import model as m
from .events import NORMAL, Wakeup


class Request:
    """One client request; also the SimPy event of its arrival.

    ``index`` is its arrival number (0, 1, ...) and ``visits`` counts its visits to each logical
    random source: together they pick its demands and hops (:class:`~.rng.RequestDraws`), so the
    same request draws the same numbers in every variant, whatever order events happen in.
    """

    __slots__ = ("callbacks", "_ok", "cls", "t0", "state", "user", "index", "visits")

    def __init__(self, callbacks: list, cls: int = 0, t0: float = 0.0, index: int = 0):
        self.callbacks = callbacks
        self._ok = True
        self.cls = cls
        self.t0 = t0
        self.state = 0  # 0 in flight, 1 answered, 2 given up (timeout)
        self.user: Any = None
        self.index = index
        self.visits: dict[str, int] = {}


class RateProfile:
    """The arrival rate as a function of time: base profile times any active spikes."""

    def __init__(self, workload: m.OpenWorkload):
        if workload.profile:
            self.points = [(p.at_s, p.rate_per_s, p.ramp_s) for p in workload.profile]
        else:
            self.points = [(0.0, float(workload.rate_per_s), 0.0)]
        self.times = [p[0] for p in self.points]
        self.spikes = [(s.at_s, s.duration_s, s.factor, s.ramp_s) for s in workload.spikes]
        self.peak = max(p[1] for p in self.points) * self._largest_boost()
        self.constant = len(self.points) == 1 and not self.spikes

    def _largest_boost(self) -> float:
        """The largest product of the factors of spikes active at one instant (a sweep over their
        starts and ends), so spikes that never overlap do not multiply the thinning bound."""
        edges = []
        for at, duration, factor, ramp in self.spikes:
            if factor > 1:
                edges += [(at + duration + ramp, 0, factor), (at, 1, factor)]  # ends sort before starts
        boost = largest = 1.0
        for _, starts, factor in sorted(edges):
            boost = boost * factor if starts else boost / factor
            largest = max(largest, boost)
        return largest

    def base(self, t: float) -> float:
        i = bisect.bisect_right(self.times, t) - 1
        at, rate, ramp = self.points[i]
        if ramp > 0 and t < at + ramp and i > 0:
            previous = self.points[i - 1][1]
            return previous + (rate - previous) * (t - at) / ramp
        return rate

    def __call__(self, t: float) -> float:
        rate = self.base(t)
        for at, duration, factor, ramp in self.spikes:
            if at <= t < at + duration + ramp:
                if ramp > 0 and t < at + ramp:
                    weight = (t - at) / ramp
                elif t >= at + duration:
                    weight = 1.0 - (t - at - duration) / ramp
                else:
                    weight = 1.0
                rate *= 1.0 + (factor - 1.0) * weight
        return rate


class ClassPicker:
    """Draws the request class of each new request from the mix (one random stream).

    Both sources call it once per request in arrival order, so request ``k`` gets the ``k``-th
    draw: the class choice is indexed by request, as the demands are."""

    def __init__(self, shares: list[float], rng: np.random.Generator):
        self.single = len(shares) == 1
        cdf = np.cumsum(shares)
        cdf[-1] = 1.0
        self.next = batched(lambda n: np.searchsorted(cdf, rng.random(n), side="right").clip(0, len(shares) - 1))


class OpenSource:
    """Open arrivals: requests arrive whatever the state of the system."""

    def __init__(self, env, workload: m.OpenWorkload, picker: ClassPicker, begin: Callable[[Request], None], streams):
        self.env = env
        self.profile = RateProfile(workload)
        self.picker = picker
        self.begin = begin
        self.offered = 0  #: Arrivals so far (the offered load, counted before any admission).
        peak = self.profile.peak
        if workload.arrivals == "poisson":
            self.gap = batched(lambda n: streams("arrivals").exponential(1.0 / peak, n))
            self.thin = None if self.profile.constant else batched(lambda n: streams("arrivals:thinning").random(n))
        else:
            self.gap = None  # deterministic: spacing follows the current rate
            self.thin = None
        self._callbacks = [self._arrive]

    def start(self) -> None:
        if self.profile.peak > 0:  # a profile at 0/s throughout sends nothing
            self._schedule_next(0.0)

    def _schedule_next(self, now: float) -> None:
        if self.gap is not None:
            delay = self.gap()
        else:
            rate = self.profile(now)
            delay = 1.0 / rate if rate > 0 else self._next_positive(now) - now
        self.env.schedule(Request(self._callbacks), NORMAL, delay)

    def _next_positive(self, now: float) -> float:
        for at, rate, _ in self.profile.points:
            if at > now and rate > 0:
                return at
        return float("inf")

    def _arrive(self, request: Request) -> None:
        now = self.env.now
        if self.gap is not None:  # Poisson: what _schedule_next does, inline on the hot path
            self.env.schedule(Request(self._callbacks), NORMAL, self.gap())
        else:
            self._schedule_next(now)
        if self.thin is not None and self.thin() * self.profile.peak >= self.profile(now):
            return  # thinned: no request at this candidate time
        if self.gap is None and self.profile(now) <= 0:
            return
        request.index = self.offered
        self.offered += 1
        request.t0 = now
        request.cls = 0 if self.picker.single else self.picker.next()
        self.begin(request)


class User:
    """A closed-model user; also the SimPy event of the end of its think time."""

    __slots__ = ("callbacks", "_ok", "source", "request")

    def __init__(self, source: "ClosedSource"):
        self.callbacks = None
        self._ok = True
        self.source = source
        self.request: Request | None = None


class ClosedSource:
    """A fixed population of users with think time (Locust's model)."""

    def __init__(self, env, workload: m.ClosedWorkload, picker: ClassPicker, begin: Callable[[Request], None], streams, timeouts: list[float | None]):
        self.env = env
        self.workload = workload
        self.picker = picker
        self.begin = begin
        self.offered = 0
        self.think = workload.think_time.sampler(streams("think"))
        self.timeouts = timeouts
        self._wake = [self._wake_up]
        self.users = [User(self) for _ in range(workload.users)]

    def start(self) -> None:
        spawn = self.workload.spawn_rate_per_s
        for i, user in enumerate(self.users):
            user.callbacks = self._wake
            self.env.schedule(user, NORMAL, i / spawn if spawn else 0.0)

    def _wake_up(self, user: User) -> None:
        now = self.env.now
        cls = 0 if self.picker.single else self.picker.next()
        request = Request(None, cls, now, self.offered)
        request.user = user
        user.request = request
        self.offered += 1
        timeout = self.timeouts[cls]
        if timeout is not None:
            self.env.schedule(Wakeup(self._timeout, request), NORMAL, timeout)
        self.begin(request)

    def answered(self, request: Request) -> None:
        """The user got its answer (or gave up): think, then go again."""
        user = request.user
        user.callbacks = self._wake
        self.env.schedule(user, NORMAL, self.think())

    def _timeout(self, request: Request) -> None:
        if request.state == 0:
            request.state = 2
            self.on_timeout(request)
            self.answered(request)

    on_timeout: Callable[[Request], None] = staticmethod(lambda request: None)
