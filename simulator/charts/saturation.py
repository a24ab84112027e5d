"""Saturation curves: throughput and p95 latency against offered load, with the knee marked.

The question a capacity review asks: how much load can this take before it falls over? Each
sweep (variants that differ only in offered load, see :mod:`.sweeps`) becomes one curve. While a
system keeps up, throughput equals offered load and latency is flat; past saturation throughput
stops growing and latency climbs steeply. The **knee** is the offered load at which p95 first
reaches twice its value at the lowest load of the sweep (linear interpolation between points);
it is marked on both panels. See ``docs/charts.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .look import caption, figure, number_formatter, save, seconds_label, styled, subtitle
from ..results.rundata import VariantRun
from .sweeps import families, family_label

KNEE_FACTOR = 2.0  #: The knee is where p95 reaches this multiple of its low-load value.
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


def saturation_curves(variants: list[VariantRun]) -> list[tuple[str, list[VariantRun]]]:
    """(label, variants sorted by offered load) for each sweep with enough distinct loads."""
    curves = []
    for family in families(variants):
        points = [v for v in family if v.offered_per_s is not None and v.get("overall.latency_p95_s") is not None]
        if len({round(v.offered_per_s.mean, 6) for v in points}) >= MIN_POINTS:
            curves.append((family_label(points), sorted(points, key=lambda v: v.offered_per_s.mean)))
    return curves


@styled
def draw_saturation(variants: list[VariantRun], out_dir: Path, stem: str = "saturation") -> list[Path]:
    """Two panels (throughput, p95) against offered load, one line per sweep, knees marked."""
    curves = saturation_curves(variants)
    if not curves:
        return []
    top = max(v.get("overall.latency_p95_s").high for _, curve in curves for v in curve)
    scale, unit = seconds_label(top)
    fig, (ax_x, ax_l) = figure(1, 2)
    for label, curve in curves:
        colour = curve[0].colour
        loads = [v.offered_per_s.mean for v in curve]
        x = [v.get("overall.throughput_per_s") for v in curve]
        p95 = [v.get("overall.latency_p95_s") for v in curve]
        ax_x.errorbar(loads, [e.mean for e in x], yerr=[e.ci95 or 0 for e in x], color=colour, marker="o",
                      linewidth=2.2, capsize=3, label=label)
        ax_l.errorbar(loads, [e.mean * scale for e in p95], yerr=[(e.ci95 or 0) * scale for e in p95], color=colour,
                      marker="o", linewidth=2.2, capsize=3, label=label)
        at = knee(loads, [e.mean for e in p95])
        if at is not None:
            for ax in (ax_x, ax_l):
                ax.axvline(at, color=colour, linestyle="--", linewidth=1.4)
            ax_l.annotate(f"knee ≈ {at:,.0f}/s", xy=(at, 0.92), xycoords=("data", "axes fraction"), xytext=(6, 0),
                          textcoords="offset points", color=colour, fontsize=13, fontweight="bold")
    limit = max(v.offered_per_s.mean for _, curve in curves for v in curve)
    ax_x.plot([0, limit], [0, limit], color="0.6", linestyle=":", linewidth=1.2, label="throughput = offered")
    ax_x.set_xlabel("offered load (requests/s)")
    ax_x.set_ylabel("throughput (requests/s)")
    ax_x.set_title("Throughput vs offered load")
    ax_l.set_yscale("log")
    ax_l.set_xlabel("offered load (requests/s)")
    ax_l.set_ylabel(f"p95 response time ({unit}, log scale)")
    ax_l.set_title("p95 vs offered load")
    for ax in (ax_x, ax_l):
        ax.xaxis.set_major_formatter(number_formatter())
    ax_x.yaxis.set_major_formatter(number_formatter())
    ax_x.legend(loc="upper left", frameon=False)
    caption(fig, f"Saturation (knee: p95 at {KNEE_FACTOR:g}x its low-load value) · "
                 + subtitle([v for _, c in curves for v in c]))
    return save(fig, out_dir, stem)
