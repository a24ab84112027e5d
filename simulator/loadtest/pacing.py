"""Open-model arrivals for one Locust process, and the think times of closed-model users.

An :class:`ArrivalSchedule` belongs to one Locust process (the only one, or one of ``--workers
N``). It draws that process's share of the scenario's arrivals: a Poisson process of rate
``rate(t) / processes`` by thinning (candidates at ``peak / processes``, each kept with probability
``rate(t) / peak``, Lewis & Shedler 1979), or with ``arrivals: deterministic`` one arrival every
``processes / rate(t)`` seconds; each arrival carries its request class, drawn from the mix. The
processes' streams are independent, and independent Poisson streams add up to a Poisson stream of
``rate(t)``.

The process's users are a pool that serves the schedule (like k6's ``constant-arrival-rate``
executor): a free user takes the next arrival, sleeps until it is due and sends it. An arrival is
*late* when no user was free at its due time (all were waiting on responses); it is sent as soon
as one is, and its latency is measured from the due time, so a slow server cannot hide behind a
busy generator (coordinated omission). Arrivals due before the end that no user took are
*dropped*. Times are seconds since the test started.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .plan import LoadPlan

LATE_TOLERANCE_S = 0.010  #: An arrival sent later than its due time by more than this counts as late
#: (every user busy, or the generator process waiting for a CPU on a busy machine).


class ArrivalSchedule:
    """The arrivals of one process, in time order: :meth:`take` hands out the next one."""

    def __init__(self, rate: Callable[[float], float], peak_per_s: float, mix: dict[str, float], rng: random.Random,
                 *, processes: int = 1, deterministic: bool = False, horizon_s: float = math.inf):
        if processes < 1:
            raise ValueError(f"processes must be at least 1, got {processes}")
        self.rate = rate
        self.peak_per_s = peak_per_s
        self.processes = processes
        self.rng = rng
        self.deterministic = deterministic
        self.horizon_s = horizon_s  #: No arrival is due at or after this time.
        self.names = list(mix)
        total = sum(mix.values())
        self.cumulative = list(np.cumsum([mix[n] / total for n in self.names]))
        self._t = rng.random() * processes / max(rate(0.0), peak_per_s * 1e-3, 1e-9) if deterministic else 0.0
        self._next = self._draw_time(first=True)

    def _draw_time(self, first: bool = False) -> float:
        if self.peak_per_s <= 0:
            return math.inf
        t = self._t
        if self.deterministic:
            while t < self.horizon_s:
                current = self.rate(t)
                if current > 0:
                    if not first:
                        t += self.processes / current
                    break
                t += 0.01  # no load right now: look again shortly
        else:
            candidate_rate = self.peak_per_s / self.processes
            while t < self.horizon_s:
                t += self.rng.expovariate(candidate_rate)
                if self.rng.random() * self.peak_per_s < self.rate(t):
                    break
        self._t = t
        return t if t < self.horizon_s else math.inf

    @property
    def next_due_s(self) -> float:
        """When the next untaken arrival is due (``inf``: none before the horizon)."""
        return self._next

    def take(self) -> tuple[float, str]:
        """The next arrival (due time, request class); ``(inf, "")`` past the horizon."""
        due = self._next
        if due == math.inf:
            return due, ""
        self._next = self._draw_time()
        u = self.rng.random()
        name = next((n for n, c in zip(self.names, self.cumulative) if u < c), self.names[-1])
        return due, name

    def untaken_before(self, end_s: float, start_s: float = 0.0) -> int:
        """Arrivals due in ``[start_s, end_s)`` that nobody took (consumes them): the dropped ones."""
        count = 0
        while self._next < end_s:
            if self._next >= start_s:
                count += 1
            self.take()
        return count


@dataclass
class PacingStats:
    """How well one process's users kept to the schedule, counted over the measurement window
    (arrivals due in ``[warmup, duration)``)."""

    window_start_s: float = 0.0
    window_end_s: float = math.inf
    arrivals: int = 0  #: Arrivals due in the window that were sent.
    late: int = 0  #: ... of which sent more than LATE_TOLERANCE_S after their due time.
    lag_sum_s: float = 0.0  #: Total lateness of the late ones.
    lag_max_s: float = 0.0
    dropped: int = 0  #: Arrivals due in the window that were never sent.

    def in_window(self, due_s: float) -> bool:
        return self.window_start_s <= due_s < self.window_end_s

    def sent(self, due_s: float, now_s: float) -> None:
        if not self.in_window(due_s):
            return
        self.arrivals += 1
        lag = now_s - due_s
        if lag > LATE_TOLERANCE_S:
            self.late += 1
            self.lag_sum_s += lag
            self.lag_max_s = max(self.lag_max_s, lag)

    def as_dict(self) -> dict[str, float]:
        scheduled = self.arrivals + self.dropped
        return {
            "scheduled": scheduled, "arrivals": self.arrivals, "late": self.late, "dropped": self.dropped,
            "late_share": self.late / scheduled if scheduled else 0.0,
            "dropped_share": self.dropped / scheduled if scheduled else 0.0,
            "mean_lag_s": self.lag_sum_s / self.late if self.late else 0.0, "max_lag_s": self.lag_max_s,
        }


def merge_pacing(parts: list[dict[str, float]]) -> dict[str, float]:
    """The pacing of several processes as one (counts add; shares and lags recomputed)."""
    parts = [p for p in parts if p]
    if not parts:
        return {}
    total = {key: sum(p.get(key, 0) for p in parts) for key in ("scheduled", "arrivals", "late", "dropped")}
    lag_sum = sum(p.get("mean_lag_s", 0.0) * p.get("late", 0) for p in parts)
    scheduled = total["scheduled"]
    return {
        **total,
        "late_share": total["late"] / scheduled if scheduled else 0.0,
        "dropped_share": total["dropped"] / scheduled if scheduled else 0.0,
        "mean_lag_s": lag_sum / total["late"] if total["late"] else 0.0,
        "max_lag_s": max(p.get("max_lag_s", 0.0) for p in parts),
    }


def schedule_for(plan: LoadPlan, process_index: int) -> ArrivalSchedule:
    """The schedule of the ``process_index``-th Locust process (its own random stream, seeded
    from the plan), for arrivals due before the plan's duration."""
    workload = plan.open_workload()
    profile = plan.rate()
    return ArrivalSchedule(profile, profile.peak, plan.mix, random.Random(f"{plan.seed}:{process_index}"),
                           processes=plan.workers, deterministic=workload.arrivals == "deterministic",
                           horizon_s=plan.duration_s)


def think_sampler(plan: LoadPlan, user_index: int) -> Callable[[], float]:
    """Closed model: the scenario's think-time distribution, sampled with its own class."""
    rng = np.random.default_rng([plan.seed, user_index])
    return plan.closed_workload().think_time.sampler(rng)
