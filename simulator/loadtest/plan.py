"""The load a scenario describes, as a plan Locust can follow: users, spawn rate and arrivals.

Open workload (requests arrive on their own schedule): Locust has no arrival process, only users,
so each Locust process draws its share of the scenario's arrivals (:mod:`.pacing`) and its users
form a pool that serves them: a free user takes the next arrival, sleeps until it is due and sends
it. An arrival is late only when every user of the process is waiting on a response at its due
time. :func:`users_for_open` sizes the pool for that: while responses take at most
``latency_bound_s``, the requests in flight are at most a Poisson number of mean
``rate * latency_bound_s`` (an M/G/infinity count), and the pool holds that mean plus four
standard deviations plus a few spare users per process, so a late arrival is an event of about
1 in 30,000 unless responses are slower than the bound. The recorder counts late and dropped
arrivals and the run reports them beside the achieved rate.

The users are all spawned before the first arrival (the schedule's time 0 is the moment the
process's users are ready), so the spawn ramp never makes arrivals late; the test runs
``drain_s`` past the duration so requests sent just before the end can finish.

Closed workload: ``users`` users spawned at ``spawn_rate`` (all at once if absent), each sending a
request, waiting for its response and thinking for a time drawn from the scenario's ``think_time``
distribution, as in the simulator.

The plan is plain data (``to_json``/``from_json``); the Locust-side file
(``loadtests/locustfiles/archsim_shape.py``) reads it from the file named by ``ARCHSIM_PLAN``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..engine.workload import RateProfile
from ..scenario import model as m

PLAN_ENV = "ARCHSIM_PLAN"  #: Environment variable naming the plan file in the Locust process.
RECORD_ENV = "ARCHSIM_RECORD"  #: Environment variable naming the recorder's output file.
POOL_SIGMAS = 4.0  #: Open-model pool: standard deviations of the in-flight count above its mean.
POOL_SPARE = 5  #: Open-model pool: users per process beyond mean + POOL_SIGMAS deviations.
DRAIN_S = 1.0  #: Seconds the test runs past its duration so that the last requests can finish.
DEFAULT_LATENCY_BOUND_S = 0.1  #: Response-time bound used to size open-model users.
MIX_RESOLUTION = 1000  #: Task weights are the mix rounded to 1/1000.


@dataclass
class LoadPlan:
    """What the Locust process needs to reproduce a scenario's workload."""

    model: str  #: ``open`` or ``closed``.
    duration_s: float
    warmup_s: float
    interval_s: float  #: Time-series step.
    seed: int
    mix: dict[str, float]  #: Request class -> share (sums to 1).
    users: int
    spawn_rate_per_s: float
    workload: dict[str, Any] = field(default_factory=dict)  #: The scenario's workload as written (aliases).
    peak_rate_per_s: float | None = None  #: Open: largest target rate, spikes included.
    target_rate_per_s: float | None = None  #: Open: mean target rate over the measurement window.
    latency_bound_s: float | None = None  #: Open: response-time bound the users were sized for.
    workers: int = 1  #: Locust worker processes (1: Locust runs alone, no master).
    drain_s: float = DRAIN_S  #: Seconds past the duration for the last responses.
    http: dict[str, Any] | None = None  #: Request class -> its declarative ``http:`` block (no locustfile).
    remote: bool = False  #: Workers on other machines (``--expect-workers``): they fetch this plan from the master.
    worker_index: int | None = None  #: A remote worker's index, given by the master with its plan (its arrival stream).

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "LoadPlan":
        return cls(**json.loads(text))

    @classmethod
    def read(cls, path: str | Path) -> "LoadPlan":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def open_workload(self) -> m.OpenWorkload:
        return m.OpenWorkload.model_validate(self.workload)

    def closed_workload(self) -> m.ClosedWorkload:
        return m.ClosedWorkload.model_validate(self.workload)

    def rate(self) -> RateProfile:
        """Open model: the target arrival rate as a function of test time (profile times spikes)."""
        return RateProfile(self.open_workload())

    @property
    def measured_s(self) -> float:
        return self.duration_s - self.warmup_s


def mean_rate(profile: RateProfile, start_s: float, end_s: float, step_s: float = 0.01) -> float:
    """Mean of ``rate(t)`` over ``[start_s, end_s)`` (midpoint rule; ramps are linear, so exact
    up to the step at the corners)."""
    if end_s <= start_s:
        return profile(start_s)
    n = max(1, math.ceil((end_s - start_s) / step_s))
    width = (end_s - start_s) / n
    return sum(profile(start_s + (i + 0.5) * width) for i in range(n)) / n


def users_for_open(peak_rate_per_s: float, latency_bound_s: float, workers: int = 1) -> int:
    """Users needed so that an arrival rarely finds every user of its process busy while responses
    take at most ``latency_bound_s``: per process, the mean in flight ``m = peak * bound / workers``
    plus ``POOL_SIGMAS * sqrt(m)`` plus ``POOL_SPARE``."""
    if peak_rate_per_s <= 0 or latency_bound_s <= 0:
        raise ValueError(f"rate and latency bound must be positive, got {peak_rate_per_s}, {latency_bound_s}")
    per_process = peak_rate_per_s * latency_bound_s / workers
    return workers * math.ceil(per_process + POOL_SIGMAS * math.sqrt(per_process) + POOL_SPARE)


def task_weights(mix: dict[str, float]) -> dict[str, int]:
    """Integer task weights for Locust from a mix (shares rounded to 1/1000, reduced by their gcd)."""
    weights = {name: round(share * MIX_RESOLUTION) for name, share in mix.items() if share > 0}
    weights = {name: w for name, w in weights.items() if w > 0}
    divisor = math.gcd(*weights.values()) if weights else 1
    return {name: w // divisor for name, w in weights.items()}


def plan_for(
    scenario: m.Scenario,
    *,
    duration_s: float | None = None,
    latency_bound_s: float = DEFAULT_LATENCY_BOUND_S,
    users: int | None = None,
    workers: int = 1,
) -> LoadPlan:
    """The plan for one (variant of a) scenario; ``duration_s`` overrides the scenario's duration
    (the warm-up is kept, but never longer than half the run)."""
    duration = duration_s if duration_s is not None else scenario.duration_s
    warmup = min(scenario.warmup_s, duration / 2) if duration_s is not None else scenario.warmup_s
    workload = scenario.workload
    class_names = list(scenario.classes)
    mix = dict(workload.mix) if workload.mix else {class_names[0]: 1.0}
    common = {
        "duration_s": duration, "warmup_s": warmup, "interval_s": scenario.metrics_interval_s,
        "seed": scenario.seed, "mix": mix, "workload": workload.model_dump(mode="json", by_alias=True),
        "workers": workers, "http": _http_blocks(scenario),
    }
    if isinstance(workload, m.ClosedWorkload):
        spawn = workload.spawn_rate_per_s or float(workload.users)
        return LoadPlan(model="closed", users=users or workload.users, spawn_rate_per_s=spawn, **common)
    profile = RateProfile(workload)
    n = max(users or users_for_open(profile.peak, latency_bound_s, workers), workers)
    return LoadPlan(
        model="open", users=n, spawn_rate_per_s=float(n) * 10,  # all users within 0.1 s, before the first arrival
        peak_rate_per_s=profile.peak, target_rate_per_s=mean_rate(profile, warmup, duration),
        latency_bound_s=latency_bound_s, **common,
    )


def _http_blocks(scenario: m.Scenario) -> dict[str, Any] | None:
    """The classes' ``http:`` blocks, when every class has one (the generic locustfile's input)."""
    blocks = {name: getattr(cls, "http", None) for name, cls in scenario.classes.items()}
    if not blocks or any(b is None for b in blocks.values()):
        return None
    return {name: b.model_dump(mode="json", by_alias=True) for name, b in blocks.items()}


def spike_events(plan: LoadPlan) -> list[dict[str, Any]]:
    """The scenario's spikes as chart marks, as the simulator records them."""
    if plan.model != "open":
        return []
    return [
        {"time_s": s.at_s, "kind": "spike", "factor": s.factor, "duration_s": s.duration_s}
        for s in plan.open_workload().spikes
        if s.at_s < plan.duration_s
    ]
