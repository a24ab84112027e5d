"""Saturation curves: throughput and p95 latency against offered load, with the knee marked.

The question a capacity review asks: how much load can this take before it falls over? Each
sweep (variants that differ only in offered load, see :mod:`simulator.results.families`) becomes one curve. While a
system keeps up, throughput equals offered load and latency is flat; past saturation throughput
stops growing and latency climbs steeply. The **knee** is the offered load at which p95 first
reaches twice its value at the lowest load of the sweep (linear interpolation between points);
it is marked on both panels. See ``docs/charts.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import formatting
from .look import (STYLE_COLOURS, caption, figure, interval_note, legend_outside, log_axis, number_formatter, save,
                   seconds_label, styled, subtitle)
from ..results.rundata import Estimate, VariantRun
from ..results.families import families, family_label

KNEE_FACTOR = 2.0  #: The knee is where p95 reaches this multiple of its low-load value.
CENSORED_FRACTION = 0.05  #: Past this share of requests unfinished at the end, a p95 of the completed ones is not the p95 of what arrived.
MIN_POINTS = 3  #: A curve needs at least this many offered loads.


def knee(loads: list[float], p95s: list[float], factor: float = KNEE_FACTOR) -> float | None:
    """Offered load at which p95 first reaches ``factor`` x its value at the lowest load (None if never)."""
    if len(loads) < 2:
        return None
    order = np.argsort(loads)
    xs, ys = np.asarray(loads, float)[order], np.asarray(p95s, float)[order]
    limit = ys[0] * factor
    for i in range(1, len(xs)):
        if ys[i] >= limit:
            if ys[i] == ys[i - 1]:
                return float(xs[i])
            share = (limit - ys[i - 1]) / (ys[i] - ys[i - 1])
            return float(xs[i - 1] + share * (xs[i] - xs[i - 1]))
    return None


def offered(variant: VariantRun) -> Estimate | None:
    """Offered load: arrivals per second in the measured window, finished or not."""
    return variant.get("overall.offered_rate_per_s") or variant.offered_per_s


def unfinished_fraction(variant: VariantRun) -> float:
    """Share of the measured arrivals still in the system at the end (0 when the run did not record it)."""
    found = variant.get("overall.unfinished_fraction")
    return found.mean or 0.0 if found is not None else 0.0


def saturation_curves(variants: list[VariantRun]) -> list[tuple[str, list[VariantRun]]]:
    """(label, variants sorted by offered load) for each sweep with enough distinct loads."""
    curves = []
    for family in families(variants):
        points = [v for v in family if offered(v) is not None and v.get("overall.latency_p95_s") is not None]
        if len({round(offered(v).mean, 6) for v in points}) >= MIN_POINTS:
            curves.append((family_label(points), sorted(points, key=lambda v: offered(v).mean)))
    return curves


def curve_colour(curve: list[VariantRun]) -> str:
    """A sweep's colour: its style's own colour when the sweep is one style, as in every other chart."""
    styles = {v.style for v in curve}
    if len(styles) == 1 and next(iter(styles)) in STYLE_COLOURS:
        return STYLE_COLOURS[next(iter(styles))]
    return curve[len(curve) // 2].colour


@styled
def draw_saturation(variants: list[VariantRun], out_dir: Path, stem: str = "saturation") -> list[Path]:
    """Two panels (throughput, p95) against offered load, one line per sweep, knees marked.

    Each knee is a dashed line in its sweep's colour, its value in the sweep's legend entry (labels
    beside the lines would print over each other when knees are close)."""
    curves = saturation_curves(variants)
    if not curves:
        return []
    top = max(v.get("overall.latency_p95_s").high for _, curve in curves for v in curve)
    low = min(v.get("overall.latency_p95_s").mean for _, curve in curves for v in curve)
    scale, unit = seconds_label(low)  # a log axis over decades reads in the unit of its smallest value (1 s and up: "1 s")
    fig, (ax_x, ax_l) = figure(1, 2, right=3.6)
    drawn: list[tuple[str, list[float], list[float]]] = []
    any_censored = False
    for index, (label, curve) in enumerate(curves):
        # Curves that coincide (every style follows the offered load below its knee) would hide the
        # ones drawn first: each later curve is thinner, so every colour keeps a visible rim.
        below = len(curves) - 1 - index
        width, marker_size = 1.6 + 0.7 * below, 4.0 + 1.4 * below
        colour = curve_colour(curve)
        loads = [offered(v).mean for v in curve]
        x = [v.get("overall.throughput_per_s") for v in curve]
        p95 = [v.get("overall.latency_p95_s") for v in curve]
        at = knee(loads, [e.mean for e in p95])
        name = f"{label}: knee ≈ {formatting.rate(at)}" if at is not None else f"{label}: no knee"
        linestyle = curve[0].linestyle
        twin = next((other for other, l2, y2 in drawn if l2 == loads and
                     all(abs(a - b) <= 0.02 * abs(b) for a, b in zip([e.mean for e in p95], y2))), None)
        if twin is not None:  # an identical curve would hide the first one: dashed on top, and said so
            linestyle, name = (0, (4, 3)), f"{name} (= {twin})"
        drawn.append((label, loads, [e.mean for e in p95]))
        ax_x.errorbar(loads, [e.mean for e in x], yerr=[e.ci95 or 0 for e in x], color=colour, marker="o", markersize=marker_size,
                      linewidth=width, capsize=3, label=name, linestyle=linestyle)
        ax_l.errorbar(loads, [e.mean * scale for e in p95], yerr=[(e.ci95 or 0) * scale for e in p95], color=colour,
                      marker="o", markersize=marker_size, linewidth=width, capsize=3, linestyle=linestyle)
        censored = [(load, e.mean * scale) for load, e, v in zip(loads, p95, curve) if unfinished_fraction(v) > CENSORED_FRACTION]
        if censored:  # overloaded: the requests still queued are not in the p95, so it can even fall as the load grows
            ax_l.scatter(*zip(*censored), marker="^", s=70, facecolors="white", edgecolors=colour,
                         linewidths=1.8, zorder=5, clip_on=False)
            any_censored = True
        if at is not None:
            for ax in (ax_x, ax_l):
                ax.axvline(at, color=colour, linestyle="--", linewidth=1.2, alpha=0.8)
    limit = max(offered(v).mean for _, curve in curves for v in curve)
    ax_x.plot([0, limit], [0, limit], color="0.6", linestyle=":", linewidth=1.2, label="throughput = offered")
    ax_x.set_xlabel("offered load (requests/s)")
    ax_x.set_ylabel("throughput (requests/s)")
    ax_x.set_title("Throughput vs offered load")
    log_axis(ax_l, "y", low * scale / 1.5, top * scale, unit)
    ax_l.set_xlabel("offered load (requests/s)")
    ax_l.set_ylabel(f"p95 response time ({unit}, log scale)")
    ax_l.set_title("p95 vs offered load")
    for ax in (ax_x, ax_l):
        ax.xaxis.set_major_formatter(number_formatter())
        ax.set_xlim(left=0)
    ax_x.set_ylim(bottom=0)
    ax_x.yaxis.set_major_formatter(number_formatter())
    if any_censored:  # a legend entry, not a caption: the caption line is full
        ax_x.scatter([], [], marker="^", s=70, facecolors="white", edgecolors="0.3", linewidths=1.8,
                     label=f"over {CENSORED_FRACTION:.0%} unfinished at the end:\np95 of the completed requests only")
    legend_outside(ax_l, *ax_x.get_legend_handles_labels(), fontsize=11)
    caption(fig, f"knee: p95 at {KNEE_FACTOR:g}x its low-load value · {interval_note([v for _, c in curves for v in c])} · "
                 + subtitle([v for _, c in curves for v in c]))
    return save(fig, out_dir, stem)
