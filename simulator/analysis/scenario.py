"""Queueing theory for a scenario, when the scenario is a network that theory solves exactly.

``archsim analytic FILE`` and the engine's tests use this to put theory beside simulation. A
scenario qualifies when it is a product-form network:

- open workload: constant-rate Poisson arrivals; or closed workload: one request class (MVA);
- every service: unbounded queue, ``concurrency == cores`` (a plain multi-server station), one
  instance or several behind ``random`` balancing (a Bernoulli split keeps Poisson arrivals);
- exponential service times with one mean per service (FCFS product form, Kelly/BCMP), except a
  lone single-core station which may have any distribution (M/G/1, Pollaczek-Khinchine);
- requests only make synchronous calls from the client (``calls`` with probabilities and repeats)
  or follow a Markov ``route``; operations make no downstream calls.

Network latency adds two hops per visit as a pure delay (an infinite-server station), which keeps
product form. Anything else raises :class:`~simulator.errors.ScenarioError` naming the field that
breaks product form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..distributions import Exponential
from ..errors import ScenarioError
from ..scenario import model as m
from ..scenario.checks import resolve_target
from .jackson import solve_traffic_equations
from .mva import DelayStation, QueueingStation, mva
from .single_station import StationMetrics, mg1, mmc

#: (metric label, theory value, path into a variant summary for the simulated value)
Row = tuple[str, float, tuple[str, ...]]


@dataclass
class Theory:
    """Exact steady-state predictions for a scenario, with where to find each in a simulation summary."""

    model: str  #: e.g. "M/M/1", "open Jackson network (3 stations)", "closed network, MVA (N=20)"
    rows: list[Row] = field(default_factory=list)


def _not_product_form(file: str, path: str, why: str) -> ScenarioError:
    return ScenarioError(file, path, f"not a product-form network, so theory cannot solve it: {why}")


def _visits(scenario: m.Scenario, cls: m.RequestClass, file: str, where: str) -> dict[str, float]:
    """Mean visits to each service per request of ``cls``."""
    visits: dict[str, float] = {}
    if cls.route is not None:
        names = list(dict.fromkeys([resolve_target(scenario, n)[0] for n in list(cls.route.start) + list(cls.route.after) + [t for row in cls.route.after.values() for t in row]]))
        index = {n: i for i, n in enumerate(names)}
        start = np.zeros(len(names))
        for name, p in cls.route.start.items():
            start[index[resolve_target(scenario, name)[0]]] += p
        routing = np.zeros((len(names), len(names)))
        for src, row in cls.route.after.items():
            for dst, p in row.items():
                routing[index[resolve_target(scenario, src)[0]], index[resolve_target(scenario, dst)[0]]] += p
        ratios = solve_traffic_equations(start, routing)
        return {n: float(ratios[index[n]]) for n in names}
    for i, step in enumerate(cls.calls):
        if not isinstance(step, m.Call) or step.mode != "sync":
            raise _not_product_form(file, f"{where}.calls[{i}]", "only synchronous calls (with probability/repeat_probability) are allowed")
        service, _ = resolve_target(scenario, step.call)
        visits[service] = visits.get(service, 0.0) + step.probability / (1.0 - step.repeat_probability)
    return visits


def _service_mean(scenario: m.Scenario, name: str, file: str, allow_general: bool) -> tuple[float, float]:
    """(mean, variance) of the service time at ``name``; every operation must agree."""
    spec = scenario.services[name]
    where = f"services.{name}"
    if spec.queue is not None:
        raise _not_product_form(file, f"{where}.queue", "queues must be unbounded")
    if (spec.concurrency or spec.cores) != spec.cores:
        raise _not_product_form(file, f"{where}.concurrency", "concurrency must equal cores")
    if spec.instances > 1 and spec.load_balancing != "random":
        raise _not_product_form(file, f"{where}.load_balancing", "several instances need `random` balancing (round-robin splits are not Poisson)")
    means = set()
    variance = 0.0
    for oname, op in spec.operations.items():
        if op.calls:
            raise _not_product_form(file, f"{where}.operations.{oname}.calls", "operations must not call other services")
        dist = op.service_time
        if not isinstance(dist, Exponential) and not allow_general:
            raise _not_product_form(file, f"{where}.operations.{oname}.service_time", f"service times must be exponential (got {dist.type})")
        means.add(round(dist.mean, 15))
        variance = dist.variance
    if len(means) != 1:
        raise _not_product_form(file, f"{where}.operations", "all operations of a service must have the same mean service time")
    return means.pop(), variance


def analyse(scenario: m.Scenario, file: str = "<scenario>") -> Theory:
    """Theory for ``scenario`` or a :class:`ScenarioError` saying why there is none."""
    if scenario.network.client_latency is not None and scenario.network.client_latency != scenario.network.latency:
        raise _not_product_form(file, "network.client_latency", "the theory takes one network latency for every hop")
    hop_s = 2 * scenario.network.latency.mean
    class_names = list(scenario.classes)
    workload = scenario.workload
    mix = workload.mix or {class_names[0]: 1.0}
    visits = {c: _visits(scenario, scenario.classes[c], file, f"classes.{c}") for c in class_names}
    used = sorted({s for v in visits.values() for s in v})
    if isinstance(workload, m.OpenWorkload):
        return _open(scenario, file, class_names, mix, visits, used, hop_s)
    return _closed(scenario, file, class_names, visits, used, hop_s)


def _open(scenario, file, class_names, mix, visits, used, hop_s) -> Theory:
    workload = scenario.workload
    if workload.profile or workload.spikes or workload.arrivals != "poisson":
        raise _not_product_form(file, "workload", "arrivals must be Poisson at a constant `rate`")
    rate = workload.rate_per_s
    lone = len(used) == 1 and scenario.services[used[0]].cores == 1 and scenario.services[used[0]].instances == 1
    stations: dict[str, StationMetrics] = {}
    for name in used:
        mean, variance = _service_mean(scenario, name, file, allow_general=lone)
        spec = scenario.services[name]
        arrivals = sum(rate * mix.get(c, 0.0) * visits[c].get(name, 0.0) for c in class_names)
        try:
            per_instance = arrivals / spec.instances
            if lone and not isinstance(scenario.services[name].operations[next(iter(spec.operations))].service_time, Exponential):
                stations[name] = mg1(per_instance, mean, variance)
            else:
                stations[name] = mmc(per_instance, 1.0 / mean, spec.cores)
        except ValueError as exc:
            raise ScenarioError(file, f"services.{name}", f"theory says this station is {exc}") from None
    kind = _kind(scenario, used)
    theory = Theory(kind)
    class_w = {}
    for c in class_names:
        w = sum(v * (stations[s].mean_response_time_s + hop_s) for s, v in visits[c].items())
        class_w[c] = w
        if len(class_names) > 1:
            theory.rows.append((f"{c}: mean response time (s)", w, ("classes", c, "latency_mean_s")))
    overall_w = sum(mix.get(c, 0.0) * class_w[c] for c in class_names)
    theory.rows.insert(0, ("mean response time (s)", overall_w, ("overall", "latency_mean_s")))
    if len(used) == 1 and all(v == 1.0 for v in visits[class_names[0]].values()) and len(class_names) == 1 and hop_s == 0:
        station = stations[used[0]]
        for label, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            try:
                theory.rows.append((f"{label} response time (s)", station.response_time_percentile_s(p), ("overall", f"latency_{label}_s")))
            except ValueError:
                break
    theory.rows.append(("throughput (/s)", rate, ("overall", "throughput_per_s")))
    total_l = 0.0
    for name in used:
        spec = scenario.services[name]
        st = stations[name]
        theory.rows.append((f"{name}: utilisation", st.utilisation, ("services", name, "utilisation")))
        theory.rows.append((f"{name}: mean queue length", st.mean_in_queue * spec.instances, ("services", name, "mean_queue_length")))
        total_l += st.mean_in_system * spec.instances
    total_l += rate * sum(mix.get(c, 0.0) * sum(visits[c].values()) for c in class_names) * hop_s
    theory.rows.append(("mean requests in system", total_l, ("system", "mean_in_flight")))
    return theory


def _kind(scenario: m.Scenario, used: list[str]) -> str:
    if len(used) == 1:
        spec = scenario.services[used[0]]
        dist = next(iter(spec.operations.values())).service_time
        letter = "M" if isinstance(dist, Exponential) else ("D" if dist.variance == 0 else "G")
        return f"M/{letter}/{spec.cores}" + (f" x{spec.instances} (random split)" if spec.instances > 1 else "")
    return f"open Jackson network ({len(used)} stations)"


def _closed(scenario, file, class_names, visits, used, hop_s) -> Theory:
    workload = scenario.workload
    if len(class_names) != 1:
        raise _not_product_form(file, "classes", "a closed workload is solved by single-class MVA: use one request class")
    cls = class_names[0]
    if scenario.classes[cls].timeout_s is not None:
        raise _not_product_form(file, f"classes.{cls}.timeout", "timeouts change the population in the network")
    if workload.spawn_rate_per_s is not None:
        raise _not_product_form(file, "workload.spawn_rate", "MVA is steady state: start all users at once")
    stations: list[QueueingStation | DelayStation] = []
    for name in used:
        mean, _ = _service_mean(scenario, name, file, allow_general=False)
        spec = scenario.services[name]
        if spec.instances > 1:
            raise _not_product_form(file, f"services.{name}.instances", "closed networks here need one instance per service (use cores)")
        stations.append(QueueingStation(name, visits[cls][name] * mean, servers=spec.cores))
    if hop_s > 0:
        stations.append(DelayStation("network", hop_s * sum(visits[cls].values())))
    solution = mva(stations, workload.users, think_time_s=workload.think_time.mean).at(workload.users)
    theory = Theory(f"closed network, exact MVA (N={workload.users}, Z={workload.think_time.mean:g}s)")
    theory.rows.append(("mean response time (s)", solution.response_time_s, ("overall", "latency_mean_s")))
    theory.rows.append(("throughput (/s)", solution.throughput_per_s, ("overall", "throughput_per_s")))
    for name in used:
        theory.rows.append((f"{name}: utilisation", solution.utilisations[name], ("services", name, "utilisation")))
    theory.rows.append(("mean requests in system", solution.throughput_per_s * solution.response_time_s, ("system", "mean_in_flight")))
    return theory


def simulated_value(summary: dict[str, Any] | None, path: tuple[str, ...]) -> tuple[float | None, float | None]:
    """(mean, ci95) at ``path`` in a variant summary block."""
    node: Any = summary
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None, None
        node = node[part]
    if isinstance(node, dict):
        return node.get("mean"), node.get("ci95")
    return None, None


def comparison_rows(theory: Theory, simulated: dict[str, Any] | None) -> list[tuple[str, float, float | None, float | None]]:
    """``(metric, theory, simulated mean, simulated ci95)`` for printing side by side."""
    return [(label, value, *simulated_value(simulated, path)) for label, value, path in theory.rows]
