"""Sweeps: which variants are the same system at different offered loads or instance counts.

A saturation curve joins variants that differ only in offered load; a scalability curve joins
variants that differ only in offered load and instance counts. Whether two variants differ "only"
there is read from ``resolved.json`` (every field of each variant's scenario, defaults filled in):
two variants belong to one sweep when their resolved scenarios are equal once the varying fields
are removed. Run directories of the same scenario therefore join up too, so a sweep can be run as
several ``archsim run --set workload.rate=...`` calls. Measured runs have no resolved scenario:
their variants form one sweep per scenario name and style.

Also here: the bottleneck estimate of the most a variant can carry, used by the scalability
chart and the scorecard.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections import defaultdict
from typing import Any

from ..results.rundata import Estimate, VariantRun

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
    """Mean and 95% Student-t half-width of per-replication values (None if there are none)."""
    from scipy.special import stdtrit

    clean = [v for v in values if math.isfinite(v)]
    if not clean:
        return None
    mean = statistics.fmean(clean)
    if len(clean) < 2:
        return Estimate(mean, None, tuple(clean))
    half = float(stdtrit(len(clean) - 1, 0.975)) * statistics.stdev(clean) / math.sqrt(len(clean))
    return Estimate(mean, half, tuple(clean))


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
