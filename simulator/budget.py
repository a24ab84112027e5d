"""The run budget: estimate a run's work before it starts, and refuse one that would not end.

A valid scenario can still ask for a run that never ends in practice: 10^12 requests per second,
a metrics interval of 100 us over an hour, a deployment controller looking every nanosecond, or a
closed workload whose users neither think nor wait (time never moves). :func:`check` estimates,
for every variant and all its replications together:

- **events**: requests x visits per request x :data:`EVENTS_PER_VISIT`, where requests come from
  the peak arrival rate x duration (open) or users x duration / (think time + time of a request)
  (closed), and visits per request from the call graph (calls, probabilities, repeats, retries,
  parallel branches, async calls and Markov routes, solved as a linear system);
- **ticks**: duration / metrics interval;
- **controller steps**: duration / period of every periodic controller (autoscaler sync and scale
  periods, deployment check period, circuit-breaker windows) and expected random crashes.

A run beyond :data:`MAX_EVENTS`, :data:`MAX_TICKS` or :data:`MAX_CONTROLLER_STEPS` is refused with
one line naming the field and the estimate; ``archsim run --force`` lifts the budget (never the
zero-time-loop and unbounded-call checks, which no amount of time would finish).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ArchsimError
from .scenario import checks
from .scenario.load import LoadedScenario
from .scenario.model import Call, Delay, Parallel, Scenario, Work

#: Engine events per visit of a service (arrival, service completion, two network hops).
EVENTS_PER_VISIT = 4
#: Most events in one run, all variants and replications (at the engine's 300,000-700,000 events/s,
#: about ten minutes of one core).
MAX_EVENTS = 3e8
#: Most time-series ticks in one run (each samples every service).
MAX_TICKS = 2e6
#: Most periodic controller steps in one run (autoscalers, rollouts, circuit breakers, crashes).
MAX_CONTROLLER_STEPS = 1e7


class BudgetExceeded(ArchsimError):
    """A run would exceed the budget (``--force`` runs it anyway)."""


class NeverEnds(ArchsimError):
    """A run that no budget would finish: time never advances, or a request never stops calling."""


@dataclass(frozen=True)
class Estimate:
    """The work of one run, with the field that drives each part."""

    events: float
    events_field: str
    events_detail: str  #: how the events figure is made up, for the message
    ticks: float
    controller_steps: float
    controller_field: str


def _fmt(x: float) -> str:
    return "infinitely many" if not math.isfinite(x) else f"{x:.3g}"


# --- visits per request --------------------------------------------------------------------------


def _op_index(scenario: Scenario) -> dict[tuple[str, str], int]:
    return {(s, o): i for i, (s, o) in enumerate((s, o) for s, svc in scenario.services.items() for o in svc.operations)}


def _step_terms(scenario: Scenario, steps: list[Any], index: dict[tuple[str, str], int], weight: float, row: np.ndarray) -> float:
    """Add the expected calls of ``steps`` (times ``weight``) to ``row``; return their local events."""
    local = 0.0
    stack = [(step, weight) for step in steps]
    while stack:
        step, w = stack.pop()
        p = getattr(step, "probability", 1.0)
        if isinstance(step, Call):
            target = checks.resolve_target(scenario, step.call)
            if isinstance(target, tuple):
                times = w * p * (1 + step.retries) / (1 - step.repeat_probability)
                row[index[target]] += times
        elif isinstance(step, Parallel):
            stack.extend((branch, w * p) for branch in step.parallel)
        elif isinstance(step, (Delay, Work)):
            local += w * p
    return local


def visits_per_request(scenario: Scenario) -> dict[str, float]:
    """Expected service visits (plus local work and delay steps) per request of each class.

    ``inf`` when the call graph never stops calling (an async cycle, a route that never leaves).
    """
    index = _op_index(scenario)
    n = len(index)
    calls = np.zeros((n, n))
    own = np.ones(n)  # the visit itself
    for (s, o), i in index.items():
        own[i] += _step_terms(scenario, scenario.services[s].operations[o].calls, index, 1.0, calls[i])
    per_op = _solve(calls, own)
    out: dict[str, float] = {}
    for name, cls in scenario.classes.items():
        row = np.zeros(n)
        if cls.route is not None:
            row = _route_visits(scenario, cls.route, index)
            local = 0.0
        else:
            local = _step_terms(scenario, cls.calls, index, 1.0, row)
        out[name] = float(local + row @ per_op) if np.all(np.isfinite(per_op)) or not row.any() else math.inf
        if not math.isfinite(out[name]) or np.any(np.isinf(row)):
            out[name] = math.inf
    return out


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``v = b + a v`` for expected counts; ``inf`` where the series diverges (spectral radius >= 1)."""
    if not a.any():
        return b.copy()
    if max(abs(np.linalg.eigvals(a))) >= 1 - 1e-9:
        return np.full(len(b), math.inf)
    return np.linalg.solve(np.eye(len(b)) - a, b)


def _route_visits(scenario: Scenario, route: Any, index: dict[tuple[str, str], int]) -> np.ndarray:
    n = len(index)
    start = np.zeros(n)
    moves = np.zeros((n, n))
    for target, p in route.start.items():
        resolved = checks.resolve_target(scenario, target)
        if isinstance(resolved, tuple):
            start[index[resolved]] += p
    for source, row in route.after.items():
        src = checks.resolve_target(scenario, source)
        for target, p in row.items():
            dst = checks.resolve_target(scenario, target)
            if isinstance(src, tuple) and isinstance(dst, tuple):
                moves[index[src], index[dst]] += p
    # visits v = start + v moves  ->  v = start (I - moves)^-1
    return _solve(moves.T, start)


# --- requests ------------------------------------------------------------------------------------


def _request_time_s(scenario: Scenario, name: str) -> float:
    """A lower bound of one request's time in the system: the mean demands on its synchronous path."""
    latency = scenario.network.latency.mean
    total = 0.0
    seen: set[tuple[str, str]] = set()
    stack: list[Any] = list(scenario.classes[name].calls)
    route = scenario.classes[name].route
    if route is not None:
        stack += [Call(call=t) for t in route.start]
    while stack:
        step = stack.pop()
        if isinstance(step, Call):
            if step.mode == "async":
                continue
            target = checks.resolve_target(scenario, step.call)
            total += 2 * latency
            if isinstance(target, tuple) and target not in seen:
                seen.add(target)
                op = scenario.services[target[0]].operations[target[1]]
                total += op.service_time.mean
                stack.extend(op.calls)
        elif isinstance(step, Parallel):
            stack.extend(step.parallel)
        elif isinstance(step, Delay):
            total += step.delay.mean
        elif isinstance(step, Work):
            total += step.work.mean
    return total


def _shares(scenario: Scenario) -> dict[str, float]:
    mix = scenario.workload.mix
    if mix:
        return {k: v for k, v in mix.items() if k in scenario.classes}
    return {name: 1.0 / len(scenario.classes) for name in scenario.classes}


def _requests(scenario: Scenario, file: str) -> tuple[float, str]:
    """Requests in one replication, and the field that sets their number."""
    workload = scenario.workload
    duration = scenario.duration_s
    if workload.type == "open":
        from .engine.workload import RateProfile

        profile = RateProfile(workload)
        base_peak = max(rate for _, rate, _ in profile.points)
        if workload.spikes and profile.peak > base_peak:
            field = "workload.spikes"
        else:
            field = "workload.profile" if workload.profile else "workload.rate"
        return profile.peak * duration, field
    think = workload.think_time.mean
    shares = _shares(scenario)
    request = sum(share * _request_time_s(scenario, name) for name, share in shares.items())
    cycle = think + request
    if cycle <= 0:
        raise NeverEnds(
            f"{file}: workload.think_time: a closed workload with zero think time and requests that take no time "
            "never lets simulated time pass (a zero-time loop): give a think_time, a service_time or a network latency"
        )
    return workload.users * duration / cycle, "workload.users"


# --- the estimate --------------------------------------------------------------------------------


def _controllers(scenario: Scenario) -> tuple[float, str]:
    duration = scenario.duration_s
    steps = 0.0
    largest = (0.0, "")
    for name, service in scenario.services.items():
        parts: list[tuple[float, str]] = []
        if service.autoscaling is not None:
            a = service.autoscaling
            parts += [
                (duration / a.sync_period_s, f"services.{name}.autoscaling.sync_period"),
                (duration / a.scale_up_period_s, f"services.{name}.autoscaling.scale_up_period"),
                (duration / a.scale_down_period_s, f"services.{name}.autoscaling.scale_down_period"),
            ]
        if service.deployment is not None:
            parts.append((duration / service.deployment.check_period_s, f"services.{name}.deployment.check_period"))
        for op_name, op in service.operations.items():
            stack = list(op.calls)
            while stack:
                step = stack.pop()
                if isinstance(step, Parallel):
                    stack.extend(step.parallel)
                elif isinstance(step, Call) and step.circuit_breaker is not None:
                    parts.append((duration / step.circuit_breaker.window_s, f"services.{name}.operations.{op_name}.calls.circuit_breaker.window"))
        for part in parts:
            steps += part[0]
            largest = max(largest, part)
    for i, failure in enumerate(scenario.failures):
        if failure.mtbf_s is not None and failure.service in scenario.services:
            service = scenario.services[failure.service]
            most = max(service.instances, service.autoscaling.max_instances if service.autoscaling else 0)
            part = (most * duration / failure.mtbf_s, f"failures[{i}].mtbf")
            steps += part[0]
            largest = max(largest, part)
    return steps, largest[1]


def estimate(scenario: Scenario, file: str) -> Estimate:
    """The work of all replications of one variant. Raises :class:`NeverEnds`."""
    visits = visits_per_request(scenario)
    shares = _shares(scenario)
    for name, share in shares.items():
        if share > 0 and not math.isfinite(visits[name]):
            raise NeverEnds(
                f"{file}: classes.{name}: a request of this class never stops calling (an async call cycle or a route "
                "that never leaves makes infinitely many calls): lower a probability or repeat_probability on the loop"
            )
    requests, field = _requests(scenario, file)
    per_request = sum(share * visits[name] for name, share in shares.items()) if shares else 0.0
    replications = scenario.replications
    visits = max(per_request, 1.0)
    events = requests * visits * EVENTS_PER_VISIT * replications
    detail = f"{_fmt(requests)} requests x {_fmt(visits)} visits each x {EVENTS_PER_VISIT} events x {replications} replication(s)"
    ticks = scenario.duration_s / scenario.metrics_interval_s * replications
    controller_steps, controller_field = _controllers(scenario)
    return Estimate(events, field, detail, ticks, controller_steps * replications, controller_field)


def check(loaded: LoadedScenario, *, force: bool = False, only: list[str] | None = None, scale: float = 1.0) -> list[Estimate]:
    """Refuse ``loaded`` if its run would exceed the budget (``scale`` x the limits); ``force`` lifts it.

    Raises :class:`BudgetExceeded` (one line naming the field and the estimate) or :class:`NeverEnds`.
    """
    file = loaded.file
    out: list[Estimate] = []
    totals = [0.0, 0.0, 0.0]
    fields = ["", "metrics_interval", ""]
    details = ["", "duration / metrics_interval x replications", "duration / period, summed over the controllers"]
    for variant in loaded.variants:
        if only and variant.name not in only:
            continue
        found = estimate(variant.scenario, file)
        out.append(found)
        for i, (amount, field) in enumerate(((found.events, found.events_field), (found.ticks, "metrics_interval"), (found.controller_steps, found.controller_field))):
            totals[i] += amount
            if amount >= max(totals[i] - amount, 0):
                fields[i] = field if len(loaded.variants) == 1 else f"{field} (variant '{variant.name}')"
                if i == 0:
                    details[0] = found.events_detail
    if force:
        return out
    limits = (MAX_EVENTS * scale, MAX_TICKS * scale, MAX_CONTROLLER_STEPS * scale)
    names = ("simulation events", "time-series ticks", "controller steps")
    advice = ("shorten the duration or lower the rate", "coarsen the metrics_interval or shorten the duration", "lengthen the period")
    for total, limit, name, field, detail, fix in zip(totals, limits, names, fields, details, advice):
        if not total <= limit:  # also refuses NaN
            raise BudgetExceeded(
                f"{file}: {field}: the run would take about {_fmt(total)} {name} ({detail}; budget {limit:.3g}): "
                f"{fix}, or pass --force to run it anyway"
            )
    return out
