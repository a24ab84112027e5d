"""Variants x replications: run them, and turn replications into means with confidence intervals.

Each replication is independent (its own seed stream); each variant uses the same streams as the
others (common random numbers). A metric's summary is the mean over replications with a 95%
Student-t confidence interval (:func:`simulator.estimates.estimate`). With one replication
there is no interval (``ci95`` is ``null``). Replications in parallel processes or on a cluster: :mod:`simulator.sweep`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


from ..estimates import estimate
from ..scenario.load import Variant
from ..scenario.model import Scenario
from .histogram import new_hdr
from .metrics import SUMMARY_PERCENTILES, ReplicationResult
from .extension import ExtensionFactory
from .simulation import simulate


def _aggregate_block(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Estimate every number across replications; nested mappings are aggregated recursively,
    strings (labels such as a platform name) are kept as they are."""
    out: dict[str, Any] = {}
    for key in blocks[0]:
        values = [block.get(key) for block in blocks]
        first = values[0]
        if isinstance(first, dict):
            out[key] = _aggregate_block([v if isinstance(v, dict) else {} for v in values])
        elif isinstance(first, str) or first is None and all(v is None or isinstance(v, str) for v in values):
            out[key] = first
        else:
            out[key] = estimate([_as_float(v) for v in values])
    return out


def _as_float(value: Any) -> float:
    if value is None:
        return math.nan
    return float(value)


def merge_histograms(encodings: list[str]) -> str:
    """One HDR encoding holding every replication's values."""
    return _merged(encodings).encode().decode("ascii")


def _merged(encodings: list[str]):
    merged = new_hdr()
    for text in encodings:
        if text:
            merged.decode_and_add(text)
    return merged


def pooled_percentiles(hdr) -> dict[str, float | None]:
    """``pooled_p95_s`` etc.: percentiles of every replication's successes pooled in one
    histogram (one number, no CI), beside ``latency_p95_s``, the mean of per-replication p95s."""
    if hdr.get_total_count() == 0:
        return {f"pooled_{key}_s": None for key in SUMMARY_PERCENTILES}
    return {f"pooled_{key}_s": hdr.get_value_at_percentile(p) / 1e6 for key, p in SUMMARY_PERCENTILES.items()}


def aggregate(variant: Variant, results: list[ReplicationResult]) -> dict[str, Any]:
    """The summary of one variant over its replications (the ``variants.<name>`` block of summary.json)."""
    class_names = list(results[0].classes)
    service_names = list(results[0].services)
    merged = {name: _merged([r.histograms.get(name, "") for r in results]) for name in results[0].histograms}
    overall = _aggregate_block([r.overall for r in results])
    classes = {c: _aggregate_block([r.classes[c] for r in results]) for c in class_names}
    for name, block in [("*", overall), *classes.items()]:
        if name in merged:
            block.update(pooled_percentiles(merged[name]))
    out: dict[str, Any] = {
        "description": variant.description,
        "replications": len(results),
        "measured_s": results[0].measured_s,
        "overall": overall,
        "classes": classes,
        "services": {s: _aggregate_block([r.services[s] for r in results]) for s in service_names},
        "system": _aggregate_block([r.system for r in results]),
        "histograms": {name: hdr.encode().decode("ascii") for name, hdr in merged.items()},
        "async_histograms": {
            name: merge_histograms([r.async_histograms.get(name, "") for r in results]) for name in results[0].async_histograms
        },
        "events": results[0].events,
        "extras": _aggregate_block([r.extras for r in results]) if results[0].extras else {},
        "wall_time_s": sum(r.wall_time_s for r in results),
        "events_scheduled": sum(r.events_scheduled for r in results),
    }
    return out


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a variant, carrying the replications that had finished (so they are kept)."""

    def __init__(self, results: list[ReplicationResult]):
        super().__init__()
        self.results = results


def run_replication(
    scenario: Scenario,
    replication: int,
    progress: Callable[[float], None] | None = None,
    extensions: Sequence[ExtensionFactory] = (),
) -> ReplicationResult:
    """One replication of one scenario with the given extension factories: the unit of work that
    the sweep work queue (:mod:`simulator.sweep.queue`) runs in this process, in worker processes
    or on a Dask cluster (which pass :func:`simulator.platforms.extensions_for` of the scenario)."""
    return simulate(scenario, replication, progress=progress, extensions=extensions)


def run_variant(
    variant: Variant,
    replications: int,
    *,
    extensions: Sequence[ExtensionFactory] = (),
    on_progress: Callable[[float], None] | None = None,
) -> list[ReplicationResult]:
    """All replications of one variant, one after another in this process, with the given
    extension factories; ``on_progress`` gets simulated seconds done (cumulative). Parallel runs go
    through :mod:`simulator.sweep.queue`.

    On Ctrl-C raises :class:`Interrupted` with the replications that had finished.
    """
    duration = variant.scenario.duration_s
    results: list[ReplicationResult] = []
    try:
        for rep in range(replications):
            base = rep * duration
            progress = (lambda t, base=base: on_progress(base + t)) if on_progress else None
            results.append(run_replication(variant.scenario, rep, progress, extensions))
    except KeyboardInterrupt:
        raise Interrupted(results) from None
    return results
