"""The numbers a report shows, as rows of formatted cells, shared by the HTML and Markdown reports.

Each figure is shown as ``mean ± 95% CI half-width`` in a unit a reader takes in at a glance
(``37.9 ms ± 24.4``, ``113.9/s``); "–" marks a figure the run does not have.
"""

from __future__ import annotations

from ..charts.cost import mean_utilisation
from ..charts.rundata import Estimate, VariantRun
from ..charts.sweeps import bottleneck_utilisation
from ..scorecard import Scorecard, star_text
from ..scorecard.measures import Measure

SUMMARY_COLUMNS = ["variant", "source", "style", "throughput", "p50", "p95", "p99", "error rate", "busiest service", "mean utilisation"]


def fmt_seconds(est: Estimate | None) -> str:
    """``12.3 ms ± 1.2`` / ``2.74 s ± 0.23``."""
    if est is None:
        return "–"
    scale, unit = (1.0, "s") if abs(est.mean) >= 1.0 else (1000.0, "ms")
    ci = f" ± {est.ci95 * scale:.3g}" if est.ci95 is not None else ""
    return f"{est.mean * scale:.3g} {unit}{ci}"


def fmt_rate(est: Estimate | None) -> str:
    if est is None:
        return "–"
    ci = f" ± {est.ci95:,.1f}" if est.ci95 is not None else ""
    return f"{est.mean:,.1f}/s{ci}"


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
        return f"${est.mean:,.2f}" + (f" ± {est.ci95:,.2f}" if est.ci95 is not None else "")
    if measure.unit == "%":
        return fmt_percent(est.mean, 2)
    return f"{est.mean:.3g}" + (f" ± {est.ci95:.2g}" if est.ci95 is not None else "")


def summary_rows(variants: list[VariantRun]) -> list[list[str]]:
    """One row per variant: throughput, latency percentiles, errors, bottleneck, utilisation."""
    rows = []
    for v in variants:
        busiest = bottleneck_utilisation(v)
        error_rate = v.get("overall.error_rate")
        rows.append([
            v.label, v.source, v.style or "–",
            fmt_rate(v.get("overall.throughput_per_s")),
            fmt_seconds(v.get("overall.latency_p50_s")),
            fmt_seconds(v.get("overall.latency_p95_s")),
            fmt_seconds(v.get("overall.latency_p99_s")),
            fmt_percent(error_rate.mean if error_rate else None, 2),
            f"{busiest[0]} {busiest[1]:.0%}" if busiest else "–",
            fmt_percent(mean_utilisation(v), 0),
        ])
    return rows


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
