"""Sweeps: which variants are the same system at different offered loads or instance counts.

A saturation curve joins variants that differ only in offered load; a scalability curve joins
variants that differ only in offered load and instance counts. Whether two variants differ "only"
there is read from ``resolved.json`` (every field of each variant's scenario, defaults filled in):
two variants belong to one sweep when their resolved scenarios are equal once the varying fields
are removed. Run directories of the same scenario therefore join up too, so a sweep can be run as
several ``archsim run --set workload.rate=...`` calls. Measured runs have no resolved scenario:
their variants form one sweep per scenario name and style.

Also here: the bottleneck estimate of the most a variant can carry, and the Universal
Scalability Law fitted to each sweep over instance counts; used by the charts, the scorecard and
the report, which is why they live below all three.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..estimates import estimate
from .rundata import Estimate, VariantRun

RATE_FIELDS = ("rate", "users", "profile", "spikes")  #: Workload fields that set the offered load.


def _without(scenario: dict[str, Any], *, instances: bool) -> str:
    """The scenario as canonical JSON without names, offered load and (optionally) instance counts."""
    copy = json.loads(json.dumps(scenario))
    for key in ("name", "description", "variants"):
        copy.pop(key, None)
    for key in RATE_FIELDS:
        copy.get("workload", {}).pop(key, None)
    if instances:
        for service in copy.get("services", {}).values():
            if isinstance(service, dict):
                service.pop("instances", None)
    return json.dumps(copy, sort_keys=True)


def families(variants: list[VariantRun], *, instances: bool = False) -> list[list[VariantRun]]:
    """Groups of variants that differ only in offered load (and instance counts if ``instances``)."""
    groups: dict[str, list[VariantRun]] = defaultdict(list)
    for variant in variants:
        if variant.scenario is not None:
            key = _without(variant.scenario, instances=instances)
        else:
            key = f"{variant.source}:{variant.summary.get('scenario', {}).get('name')}:{variant.style}"
        groups[key].append(variant)
    return list(groups.values())


def family_label(family: list[VariantRun]) -> str:
    """A name for a sweep: the variants' common prefix ("load-50, load-100" -> "load"), else the scenario."""
    prefix = os.path.commonprefix([v.label for v in family]).rstrip("-_./ ")
    if len(prefix) >= 3:
        return prefix
    return family[0].summary.get("scenario", {}).get("name", family[0].label)


def bottleneck_utilisation(variant: VariantRun) -> tuple[str, float] | None:
    """The busiest service and its utilisation (0-1, share of all its instances' cores)."""
    busiest = None
    for name in variant.block.get("services") or {}:
        u = variant.get(f"services.{name}.utilisation")
        if u is not None and (busiest is None or u.mean > busiest[1]):
            busiest = (name, u.mean)
    return busiest


def over_replications(values: list[float]) -> Estimate | None:
    """Mean and 95% Student-t half-width of per-replication values (None if none is finite)."""
    clean = [v for v in values if math.isfinite(v)]
    if not clean:
        return None
    summary = estimate(clean)
    return Estimate(summary["mean"], summary["ci95"], tuple(clean))


def max_sustainable_throughput(variant: VariantRun) -> Estimate | None:
    """Throughput the variant could carry with its bottleneck 100% busy: X / U_max (utilisation law).

    Per replication when the run keeps per-replication values (the bottleneck is the service
    busiest on average). A measured capacity (``extras.capacity.max_throughput_per_s``) wins when
    a run records one.
    """
    measured = variant.get("extras.capacity.max_throughput_per_s")
    if measured is not None:
        return measured
    throughput = variant.get("overall.throughput_per_s")
    busiest = bottleneck_utilisation(variant)
    if throughput is None or busiest is None or busiest[1] <= 0.01:
        return None
    utilisation = variant.get(f"services.{busiest[0]}.utilisation")
    if len(throughput.values) == len(utilisation.values) > 0 and min(utilisation.values) > 0.01:
        return over_replications([x / min(u, 1.0) for x, u in zip(throughput.values, utilisation.values)])
    scale = 1.0 / min(busiest[1], 1.0)
    return Estimate(throughput.mean * scale, throughput.ci95 * scale if throughput.ci95 is not None else None)


def total_instances(variant: VariantRun, services: list[str] | None = None) -> float | None:
    """Sum of the instance counts of ``services`` (all services if None)."""
    names = services if services is not None else list(variant.block.get("services") or {})
    counts = [variant.get(f"services.{name}.instances") for name in names]
    if not counts or any(c is None for c in counts):
        return None
    return sum(c.mean for c in counts)


def varying_services(family: list[VariantRun]) -> list[str]:
    """Services whose instance count differs between the variants of ``family``."""
    names: dict[str, set[float]] = defaultdict(set)
    for variant in family:
        for name in variant.block.get("services") or {}:
            count = variant.get(f"services.{name}.instances")
            if count is not None:
                names[name].add(round(count.mean, 3))
    return [name for name, counts in names.items() if len(counts) > 1]


# --- scalability: the Universal Scalability Law over instance counts --------------------------------

MIN_POINTS = 3  #: Three parameters need at least three instance counts.


def usl(n, lam: float, sigma: float, kappa: float):
    """Universal Scalability Law: capacity of ``n`` instances."""
    n = np.asarray(n, dtype=float)
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


@dataclass(frozen=True)
class UslFit:
    """A fitted USL curve and the points it was fitted to."""

    lam: float  #: Throughput of one instance (requests/s).
    sigma: float  #: Contention coefficient.
    kappa: float  #: Coherency coefficient.
    instances: tuple[float, ...]
    throughput: tuple[float, ...]

    @property
    def peak_instances(self) -> float | None:
        """N* = √((1 − σ)/κ), where capacity peaks; None when κ is 0 (no retrograde region)."""
        return math.sqrt((1 - self.sigma) / self.kappa) if self.kappa > 1e-12 else None

    def efficiency(self, n: float) -> float:
        """X(n) / (n X(1)): 1 is linear scaling."""
        return float(1 / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1)))


def fit_usl(instances: list[float], throughput: list[float]) -> UslFit | None:
    """Least-squares USL fit; None with fewer than three distinct instance counts or no convergence."""
    from scipy.optimize import curve_fit

    if len(set(instances)) < MIN_POINTS:
        return None
    n = np.asarray(instances, float)
    x = np.asarray(throughput, float)
    lam0 = float(np.max(x[n == n.min()]) / n.min())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(usl, n, x, p0=[lam0, 0.01, 0.0001], bounds=([0, 0, 0], [np.inf, 1, 1]), maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    return UslFit(float(params[0]), float(params[1]), float(params[2]), tuple(instances), tuple(throughput))


def scalability_sweeps(variants: list[VariantRun]) -> list[tuple[str, list[VariantRun], UslFit]]:
    """(label, variants, fit) for each sweep over instance counts that can be fitted."""
    out = []
    for family in families(variants, instances=True):
        services = varying_services(family)
        if not services:
            continue
        best: dict[float, float] = {}
        members = []
        for variant in family:
            n = total_instances(variant, services)
            capacity = max_sustainable_throughput(variant)
            if n is None or capacity is None:
                continue
            best[n] = max(best.get(n, 0.0), capacity.mean)
            members.append(variant)
        fit = fit_usl(list(best), [best[n] for n in best])
        if fit is not None:
            out.append((family_label(members) + f" ({'+'.join(services)})", members, fit))
    return out
