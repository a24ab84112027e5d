"""What each trade-off characteristic is measured by, read from the runs.

One function per characteristic returns its :class:`Measure` list for a set of variants; the
first measures marked ``scored`` set the stars, the others are shown beside them. Definitions,
and why each was chosen, are in ``docs/scorecard.md``. A measure whose data the runs do not have
(no cost model, no rollout) is simply absent, and the characteristic is then "not measured".
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from ..results.rundata import Estimate, VariantRun
from ..results.families import max_sustainable_throughput, over_replications, scalability_sweeps

RECOVERY_FACTOR = 2.0  #: After a spike, the SLO is p95 within this multiple of the pre-spike p95.
USL_EFFICIENCY_AT = 8  #: Instances at which USL scaling efficiency is compared.
#: Events that disturb the system from outside: a load spike, an injected failure, a rollout. A
#: window measured after one ends at the next (scale-ups and start-ups are responses, not new causes).
DISTURBANCES = ("spike", "rollout_start", "crash", "outage_start", "host_failed", "errors_start", "failure", "kill", "partition")
FAILURE_STARTS = ("crash", "outage_start", "host_failed", "errors_start", "failure", "kill", "partition")
MIN_NOMINAL_INTERVALS = 3  #: Time-series intervals needed before the first disturbance to judge nominal load.


@dataclass
class Measure:
    """One measured quantity per variant."""

    key: str  #: Short identifier, e.g. ``p95_s``.
    label: str  #: Shown in tables, with its unit.
    better: str  #: ``lower`` or ``higher``.
    values: dict[str, Estimate | None] = field(default_factory=dict)  #: Variant label -> value.
    scored: bool = True  #: Whether it sets the stars (else shown only).
    unit: str = ""  #: ``s``, ``/s``, ``usd``, ``%`` or ``""``, for formatting.

    @property
    def present(self) -> bool:
        return any(v is not None for v in self.values.values())


def _each(variants: list[VariantRun], path: str) -> dict[str, Estimate | None]:
    return {v.label: v.get(path) for v in variants}


def _disturbances(variant: VariantRun) -> list[tuple[float, str]]:
    """``(time_s, kind)`` of every disturbance inside the measured window, in time order."""
    warmup = float(variant.summary.get("warmup_s") or 0.0)
    found = [(float(e["time_s"]), str(e.get("kind"))) for e in variant.block.get("events") or []
             if e.get("kind") in DISTURBANCES and isinstance(e.get("time_s"), (int, float)) and e["time_s"] >= warmup]
    return sorted(set(found))


def _replications(variant: VariantRun, *columns: str) -> list[dict[str, list[float]]]:
    """The time series of each replication as ``{"time_s": [...], column: [...]}`` (NaN kept)."""
    series = variant.timeseries
    if "time_s" not in series or any(c not in series for c in columns):
        return []
    return [{"time_s": times, **{c: series[c][i] for c in columns}} for i, times in enumerate(series["time_s"])]


def nominal_p95(variant: VariantRun) -> Estimate | None:
    """p95 at nominal load: the whole run's p95 when nothing disturbs it; otherwise, per
    replication, the mean of the interval p95s between warm-up and the first disturbance."""
    overall = variant.get("overall.latency_p95_s")
    disturbances = _disturbances(variant)
    if not disturbances:
        return overall
    warmup = float(variant.summary.get("warmup_s") or 0.0)
    first = disturbances[0][0]
    values = []
    for rep in _replications(variant, "latency_p95_s"):
        before = [p for t, p in zip(rep["time_s"], rep["latency_p95_s"]) if warmup < t <= first and math.isfinite(p)]
        if len(before) < MIN_NOMINAL_INTERVALS:
            return overall
        values.append(statistics.fmean(before))
    return over_replications(values) or overall


def performance(variants: list[VariantRun]) -> list[Measure]:
    """p95 at nominal load (how much load a variant can carry is scalability's measure)."""
    return [Measure("p95_s", "p95 at nominal load", "lower", {v.label: nominal_p95(v) for v in variants}, unit="s")]


def scalability(variants: list[VariantRun]) -> list[Measure]:
    """USL efficiency at 8 instances when every variant has a USL fit, else max sustainable throughput."""
    fits = {}
    for _, members, fit in scalability_sweeps(variants):
        for member in members:
            fits[member.label] = fit
    capacity = Measure("max_throughput_per_s", "max sustainable throughput", "higher",
                       {v.label: max_sustainable_throughput(v) for v in variants}, unit="/s")
    if fits and all(v.label in fits for v in variants):
        capacity.scored = False
        return [
            Measure("usl_efficiency", f"USL efficiency at N={USL_EFFICIENCY_AT}", "higher",
                    {k: Estimate(f.efficiency(USL_EFFICIENCY_AT)) for k, f in fits.items()}, unit="%"),
            Measure("usl_sigma", "USL contention σ", "lower", {k: Estimate(f.sigma) for k, f in fits.items()}, scored=False),
            Measure("usl_kappa", "USL coherency κ", "lower", {k: Estimate(f.kappa) for k, f in fits.items()}, scored=False),
            capacity,
        ]
    return [capacity]


def _slo_p95_s(variant: VariantRun) -> float | None:
    slo = (variant.scenario or {}).get("slo")
    value = slo.get("p95") if isinstance(slo, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def recovery_time(variant: VariantRun) -> Estimate | None:
    """Seconds from the first spike's start until p95 is back within the SLO for good (0 if never out).

    Per replication, from the time series: the SLO is the scenario's ``slo.p95`` if it sets one,
    else :data:`RECOVERY_FACTOR` x the median interval p95 between warm-up and the spike; recovery
    is the end of the last interval over the SLO before the next disturbance (a failure or
    rollout after the spike is not the spike's doing), or the run's end. Without a time series,
    ``extras.recovery.time_to_slo_recovery_s`` if the run records it.
    """
    disturbances = _disturbances(variant)
    spikes = [t for t, kind in disturbances if kind == "spike"]
    replications = _replications(variant, "latency_p95_s")
    if not spikes or not replications:
        return variant.get("extras.recovery.time_to_slo_recovery_s")
    start = spikes[0]
    warmup = float(variant.summary.get("warmup_s") or 0.0)
    later = [t for t, _ in disturbances if t > start]
    horizon = min(later) if later else float(variant.summary.get("duration_s") or math.inf)
    fixed_slo = _slo_p95_s(variant)
    values = []
    for rep in replications:
        points = list(zip(rep["time_s"], rep["latency_p95_s"]))
        before = [p for t, p in points if warmup < t <= start and math.isfinite(p)]
        if fixed_slo is None and not before:
            continue
        slo = fixed_slo if fixed_slo is not None else RECOVERY_FACTOR * statistics.median(before)
        over = [t for t, p in points if start < t <= horizon and not p <= slo]  # NaN: nothing finished
        values.append(max(over) - start if over else 0.0)
    return over_replications(values)


def elasticity(variants: list[VariantRun]) -> list[Measure]:
    """Time to SLO recovery after a spike."""
    return [Measure("recovery_s", "time to SLO recovery after spike", "lower", {v.label: recovery_time(v) for v in variants}, unit="s")]


def _availability(variant: VariantRun) -> Estimate | None:
    overall = variant.get("extras.availability.overall")
    if overall is not None:
        return overall
    block = (variant.block.get("extras") or {}).get("availability")
    if isinstance(block, dict):
        values = [variant.get(f"extras.availability.{k}") for k in block]
        values = [v for v in values if v is not None]
        return min(values, key=lambda e: e.mean) if values else None
    return variant.get("extras.availability")


def failed_under_failure(variant: VariantRun) -> Estimate | None:
    """Share of the requests answered between the first injected failure and the next other
    disturbance (or the run's end) that failed: what clients saw of the fault.

    Per replication from the time series (errors / (completions + errors), weighted by interval
    length); None when no failure was injected.
    """
    disturbances = _disturbances(variant)
    starts = [t for t, kind in disturbances if kind in FAILURE_STARTS]
    if not starts:
        return None
    first = starts[0]
    later = [t for t, kind in disturbances if t > first and kind not in FAILURE_STARTS]
    horizon = min(later) if later else math.inf
    values = []
    for rep in _replications(variant, "throughput_per_s", "errors_per_s"):
        failed = answered = 0.0
        previous = None
        for t, ok, bad in zip(rep["time_s"], rep["throughput_per_s"], rep["errors_per_s"]):
            if previous is not None and first < t <= horizon and math.isfinite(ok) and math.isfinite(bad):
                failed += bad * (t - previous)
                answered += (ok + bad) * (t - previous)
            previous = t
        if answered > 0:
            values.append(failed / answered)
    return over_replications(values)


def fault_tolerance(variants: list[VariantRun]) -> list[Measure]:
    """Share of requests failed under an injected failure (scored); availability (shown)."""
    return [
        Measure("failed_under_failure", "requests failed under failure", "lower",
                {v.label: failed_under_failure(v) for v in variants}, unit="%"),
        Measure("availability", "availability (every service up)", "higher",
                {v.label: _availability(v) for v in variants}, scored=False, unit="%"),
    ]


def cost(variants: list[VariantRun]) -> list[Measure]:
    """Cost per million requests (scored); idle fraction (shown)."""
    return [
        Measure("cost_per_million_usd", "cost per million requests", "lower",
                _each(variants, "extras.cost.per_million_requests_usd"), unit="usd"),
        Measure("idle_fraction", "idle capacity", "lower", _each(variants, "extras.cost.idle_fraction"), scored=False, unit="%"),
    ]


def deployability(variants: list[VariantRun]) -> list[Measure]:
    """Rollout duration and errors during the rollout (both scored)."""
    return [
        Measure("rollout_s", "rollout duration", "lower", _each(variants, "extras.rollout.duration_s"), unit="s"),
        Measure("rollout_errors", "errors during rollout", "lower", _each(variants, "extras.rollout.errors")),
    ]


def _structure(variant: VariantRun) -> tuple[Estimate | None, Estimate | None]:
    deployables = variant.get("extras.structure.deployables")
    hops = variant.get("extras.structure.network_hops_per_request")
    services = variant.block.get("services") or {}
    if deployables is None and services:
        deployables = Estimate(float(len(services)))
    if hops is None and services:
        x = variant.get("overall.throughput_per_s")
        visits = [variant.get(f"services.{s}.throughput_per_s") for s in services]
        if x is not None and x.mean > 0 and all(v is not None for v in visits):
            hops = Estimate(round(sum(v.mean for v in visits) / x.mean, 1))  # structural: sampling noise is not a difference
    return deployables, hops


def simplicity(variants: list[VariantRun]) -> list[Measure]:
    """Deployables and network hops per request (both scored; structural)."""
    pairs = {v.label: _structure(v) for v in variants}
    return [
        Measure("deployables", "deployables", "lower", {k: p[0] for k, p in pairs.items()}),
        Measure("hops_per_request", "network hops per request", "lower", {k: p[1] for k, p in pairs.items()}),
    ]


#: Characteristic key -> (title, measuring function), in scorecard order.
CHARACTERISTICS = {
    "performance": ("Performance", performance),
    "scalability": ("Scalability", scalability),
    "elasticity": ("Elasticity", elasticity),
    "fault_tolerance": ("Fault tolerance", fault_tolerance),
    "cost": ("Cost", cost),
    "deployability": ("Deployability", deployability),
    "simplicity": ("Simplicity", simplicity),
}
