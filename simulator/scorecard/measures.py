"""What each trade-off characteristic is measured by, read from the runs.

One function per characteristic returns its :class:`Measure` list for a set of variants; the
first measures marked ``scored`` set the stars, the others are shown beside them. Definitions,
and why each was chosen, are in ``docs/scorecard.md``. A measure whose data the runs do not have
(no cost model, no rollout) is simply absent, and the characteristic is then "not measured".
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ..results.rundata import Estimate, VariantRun
from ..charts.scalability import scalability_sweeps
from ..charts.sweeps import max_sustainable_throughput

FAILURE_EVENTS = ("crash", "failure", "kill", "outage", "partition")  #: Event kinds that inject faults.
RECOVERY_FACTOR = 2.0  #: After a spike, the SLO is p95 within this multiple of the pre-spike p95.
USL_EFFICIENCY_AT = 8  #: Instances at which USL scaling efficiency is compared.


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


def performance(variants: list[VariantRun]) -> list[Measure]:
    """p95 at nominal load (scored); max sustainable throughput (shown)."""
    return [
        Measure("p95_s", "p95 at nominal load", "lower", _each(variants, "overall.latency_p95_s"), unit="s"),
        Measure("max_throughput_per_s", "max sustainable throughput", "higher",
                {v.label: max_sustainable_throughput(v) for v in variants}, scored=False, unit="/s"),
    ]


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


def recovery_time(variant: VariantRun) -> Estimate | None:
    """Seconds from the first spike's start until p95 is back within the SLO for good (0 if never out).

    ``extras.recovery.time_to_slo_recovery_s`` wins when the run records it. Otherwise, from the
    time series: the SLO is :data:`RECOVERY_FACTOR` x the median interval p95 between warm-up and
    the spike; recovery is the end of the last interval over the SLO before the next event.
    """
    recorded = variant.get("extras.recovery.time_to_slo_recovery_s")
    if recorded is not None:
        return recorded
    spikes = [e for e in variant.block.get("events") or [] if e.get("kind") == "spike" and e.get("time_s") is not None]
    series = variant.series("latency_p95_s")
    if not spikes or series is None:
        return None
    start = float(spikes[0]["time_s"])
    warmup = float(variant.summary.get("warmup_s") or 0.0)
    later = [float(e["time_s"]) for e in variant.block.get("events") or [] if (e.get("time_s") or 0) > start]
    horizon = min(later) if later else float("inf")
    times, p95, _, _ = series
    before = [p for t, p in zip(times, p95) if warmup < t <= start]
    if not before:
        return None
    slo = RECOVERY_FACTOR * statistics.median(before)
    over = [t for t, p in zip(times, p95) if start < t <= horizon and p > slo]
    return Estimate(max(over) - start if over else 0.0)


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


def fault_tolerance(variants: list[VariantRun]) -> list[Measure]:
    """Availability (scored when recorded) and error rate under injected failures."""
    availability = Measure("availability", "availability under failure", "higher",
                           {v.label: _availability(v) for v in variants}, unit="%")
    failed = any(e.get("kind") in FAILURE_EVENTS for v in variants for e in v.block.get("events") or [])
    errors = Measure("error_rate", "error rate under failure", "lower",
                     _each(variants, "overall.error_rate") if failed else {}, unit="%")
    if availability.present:
        errors.scored = False
        return [availability, errors]
    return [errors]


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
