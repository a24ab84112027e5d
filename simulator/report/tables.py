"""The numbers a report shows, as rows of formatted cells, shared by the HTML and Markdown reports.

Each figure is shown as ``mean ± 95% CI half-width`` in a unit a reader takes in at a glance
(``37.9 ms ± 24.4``, ``113.9/s``): three significant digits, the CI to the same decimal place, and
no "±" at all when the CI rounds to zero there (the figure is exact). "–" marks a figure the run
does not have.
"""

from __future__ import annotations

import math

from ..charts.cost import mean_utilisation
from ..results.rundata import Estimate, VariantRun
from ..charts.sweeps import bottleneck_utilisation
from ..scorecard import Scorecard, star_text
from ..scorecard.measures import Measure

SUMMARY_COLUMNS = ["variant", "source", "style", "throughput", "p50", "p95", "p99", "error rate", "busiest service", "mean utilisation"]


def decimals_for(value: float, significant: int = 3) -> int:
    """Decimal places that show ``value`` with ``significant`` significant digits (never negative)."""
    if value == 0 or not math.isfinite(value):
        return significant - 1
    return max(0, significant - 1 - math.floor(math.log10(abs(value))))


def with_ci(mean: float, ci95: float | None, decimals: int, unit: str = "") -> str:
    """``mean unit ± ci`` with both at ``decimals`` places; a CI that rounds to zero there is left out.

    A zero-width interval (every replication agrees, or floating-point noise such as 1.4e-15) is
    shown as the exact figure, never as ``± 0`` or ``± 1.4e-15``.
    """
    text = f"{mean:,.{decimals}f}{unit}"
    if ci95 is None or round(abs(ci95), decimals) == 0:
        return text
    return f"{text} ± {abs(ci95):,.{decimals}f}"


def fmt_seconds(est: Estimate | None) -> str:
    """``12.3 ms ± 1.2`` / ``2.74 s ± 0.23``: three significant digits, the CI to the same place."""
    if est is None:
        return "–"
    scale, unit = (1.0, "s") if abs(est.mean) >= 1.0 else (1000.0, "ms")
    mean = est.mean * scale
    return with_ci(mean, est.ci95 * scale if est.ci95 is not None else None, decimals_for(mean), f" {unit}")


def fmt_rate(est: Estimate | None) -> str:
    """``113.9/s ± 2.1``."""
    if est is None:
        return "–"
    return with_ci(est.mean, est.ci95, 1, "/s")


def fmt_percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def fmt_measure(measure: Measure, est: Estimate | None) -> str:
    """A measure's value in its unit."""
    if est is None:
        return "–"
    if measure.unit == "s":
        return fmt_seconds(est)
    if measure.unit == "/s":
        return fmt_rate(est)
    if measure.unit == "usd":
        return "$" + with_ci(est.mean, est.ci95, 2)
    if measure.unit == "%":
        return fmt_percent(est.mean, 2)
    exact_count = est.mean.is_integer() and not est.ci95  # e.g. deployables: "7", not "7.00"
    return with_ci(est.mean, est.ci95, 0 if exact_count else decimals_for(est.mean))


def summary_rows(variants: list[VariantRun]) -> list[list[str]]:
    """One row per variant: throughput, latency percentiles, errors, bottleneck, utilisation."""
    rows = []
    for v in variants:
        busiest = bottleneck_utilisation(v)
        error_rate = v.get("overall.error_rate")
        rows.append([
            v.label, v.source, v.style or "–",
            fmt_rate(v.get("overall.throughput_per_s")) + _unfinished_note(v),
            fmt_seconds(v.get("overall.latency_p50_s")),
            fmt_seconds(v.get("overall.latency_p95_s")),
            fmt_seconds(v.get("overall.latency_p99_s")),
            fmt_percent(error_rate.mean if error_rate else None, 2),
            f"{busiest[0]} {busiest[1]:.0%}" if busiest else "–",
            fmt_percent(mean_utilisation(v), 0),
        ])
    return rows


def _unfinished_note(v: VariantRun, threshold: float = 0.01) -> str:
    """`` (41% unfinished)`` when more than 1% of the arrivals had no answer at the end (overload)."""
    unfinished = v.get("overall.unfinished_fraction")
    return f" ({unfinished.mean:.0%} unfinished)" if unfinished is not None and unfinished.mean > threshold else ""


def scorecard_rows(card: Scorecard) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the star table: one row per characteristic, measured / published per variant."""
    header = ["characteristic", "scored on"] + [v.label for v in card.variants]
    rows = []
    for ch in card.characteristics:
        cells = [ch.title, ch.basis]
        for v in card.variants:
            mine = star_text(ch.stars.get(v.label)) if ch.measured else "not measured"
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
