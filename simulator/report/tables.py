"""The numbers a report shows, as rows of formatted cells, shared by the HTML and Markdown reports.

Every figure is written by :mod:`simulator.formatting` (``37.9 ms ± 24.4``, ``298/s ± 4``): the
same text as the CLI table, ``archsim compare`` and the charts. "–" marks a figure the run does
not have.
"""

from __future__ import annotations

from .. import formatting
from ..charts.cost import mean_utilisation
from ..results.rundata import Estimate, VariantRun
from ..results.families import bottleneck_utilisation
from ..scorecard import Scorecard, star_text
from ..scorecard.measures import Measure

SUMMARY_COLUMNS = ["variant", "source", "style", "throughput", "p50", "p95", "p99", "error rate", "busiest service", "mean utilisation"]


def cell(est: Estimate | None, unit: str = "") -> str:
    """An estimate as ``mean ± 95% CI`` in ``unit`` (``s``, ``/s``, ``%``, ``usd`` or plain)."""
    if est is None:
        return formatting.MISSING
    return formatting.figure(est.mean, est.ci95, unit)


def fmt_measure(measure: Measure, est: Estimate | None) -> str:
    """A measure's value in its unit."""
    return cell(est, measure.unit)


def summary_rows(variants: list[VariantRun]) -> list[list[str]]:
    """One row per variant: throughput, latency percentiles, errors, bottleneck, utilisation."""
    rows = []
    for v in variants:
        busiest = bottleneck_utilisation(v)
        error_rate = v.get("overall.error_rate")
        rows.append([
            v.label, v.source, v.style or "–",
            cell(v.get("overall.throughput_per_s"), "/s") + _unfinished_note(v),
            cell(v.get("overall.latency_p50_s"), "s"),
            cell(v.get("overall.latency_p95_s"), "s"),
            cell(v.get("overall.latency_p99_s"), "s"),
            cell(error_rate, "%"),
            f"{busiest[0]} {formatting.percent(busiest[1])}" if busiest else formatting.MISSING,
            formatting.percent(mean_utilisation(v)),
        ])
    return rows


def _unfinished_note(v: VariantRun, threshold: float = 0.01) -> str:
    """`` (41% unfinished)`` when more than 1% of the arrivals had no answer at the end (overload)."""
    unfinished = v.get("overall.unfinished_fraction")
    return f" ({unfinished.mean:.0%} unfinished)" if unfinished is not None and unfinished.mean > threshold else ""


NOT_MEASURED = "not measured"  #: A star cell whose characteristic the runs have no data for.
CANNOT_RANK = "cannot rank"  #: A star cell with data but one replication: no stars on noise.


def scorecard_rows(card: Scorecard) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the star table: one row per characteristic, measured / published per variant."""
    header = ["characteristic", "scored on"] + [v.label for v in card.variants]
    rows = []
    for ch in card.characteristics:
        cells = [ch.title, ch.basis]
        for v in card.variants:
            if not card.can_rank and any(m.present for m in ch.measures):
                mine = CANNOT_RANK
            else:
                mine = star_text(ch.stars.get(v.label)) if ch.measured else NOT_MEASURED
            theirs = ch.published.get(v.label)
            cells.append(mine + (f" (R&F {star_text(theirs)})" if theirs is not None else ""))
        rows.append(cells)
    return header, rows


def measure_rows(card: Scorecard) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the numbers behind the stars: one row per measure that has data."""
    header = ["characteristic", "measure", "better"] + [v.label for v in card.variants]
    rows = []
    for ch in card.characteristics:
        for m in ch.measures:
            if not m.present:
                continue
            rows.append([ch.title, m.label + ("" if m.scored else " (shown)"), m.better]
                        + [fmt_measure(m, m.values.get(v.label)) for v in card.variants])
    return header, rows


def overrides_text(summary: dict) -> str:
    """``--set workload.rate=120/s --seed 7``: what the command line changed in the scenario."""
    recorded = (summary.get("run") or {}).get("overrides") or {}
    parts = [f"--set {path}={value}" for path, value in (recorded.get("set") or {}).items()]
    parts += [f"--{flag} {recorded[flag]}" for flag in ("seed", "replications") if flag in recorded]
    return " ".join(parts)
