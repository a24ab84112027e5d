"""Latency percentiles per variant: p50, p95 and p99 side by side, with 95% CI error bars.

The first chart of a design review: how long requests take, typically and in the tail, for each
variant. One panel per percentile, one horizontal bar per variant, the variant names written
once on the left: there is no legend to cover a bar, and the chart reads the same with 6
variants or 24 (the figure grows a line per variant). The time axis turns logarithmic when
variants differ by more than 20x, so a saturated variant does not flatten the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .look import caption, figure, hatch, interval_note, legend_label, log_axis, save, seconds_label, styled, subtitle
from ..results.rundata import VariantRun

PERCENTILES = (("p50", "latency_p50_s"), ("p95", "latency_p95_s"), ("p99", "latency_p99_s"))
LOG_ABOVE = 20.0  #: Largest / smallest value beyond which the time axis is logarithmic.


@styled
def draw_percentiles(variants: list[VariantRun], out_dir: Path, stem: str = "latency-percentiles") -> list[Path]:
    """Three panels (p50/p95/p99) of one bar per variant with 95% CI error bars; nothing if no latencies."""
    shown = [v for v in variants if v.get("overall.latency_p95_s") is not None]
    if not shown:
        return []
    estimates = [[v.get(f"overall.{key}") for _, key in PERCENTILES] for v in shown]
    top = max(e.high for row in estimates for e in row if e)
    values_s = [e.mean for row in estimates for e in row if e and e.mean > 0]
    logarithmic = bool(values_s) and max(values_s) / min(values_s) > LOG_ABOVE
    # a log axis spans decades: one unit for all of them, milliseconds unless everything is seconds
    scale, unit = seconds_label(min(values_s) if logarithmic else top)
    label_width = max(len(legend_label(v)) for v in shown)
    fig, axes = figure(1, 3, right=0.0, height=max(5.5, 1.9 + 0.34 * len(shown)), sharex=True, sharey=True)
    fig.subplots_adjust(left=min(0.45, (0.35 + 0.105 * label_width) / 12.0))
    y = np.arange(len(shown))
    for column, (ax, (name, _)) in enumerate(zip(axes, PERCENTILES)):
        for i, (variant, row) in enumerate(zip(shown, estimates)):
            est = row[column]
            if est is None:
                continue
            mean, ci = est.mean * scale, (est.ci95 or 0.0) * scale
            ax.barh(y[i], mean, 0.72, xerr=[[min(ci, mean * 0.999)], [ci]] if ci else None, capsize=3,
                    color=variant.colour, hatch=hatch(variant), edgecolor="white", linewidth=0.5,
                    error_kw={"elinewidth": 1.2, "ecolor": "0.15"})
        ax.set_title(name)
        ax.grid(False, axis="y")
        ax.set_xlabel(f"latency ({unit})")
    if logarithmic:
        log_axis(axes[0], "x", min(values_s) * scale / 1.5, top * scale, unit)
    else:
        axes[0].set_xlim(0, top * scale * 1.08)
    axes[0].set_yticks(y, [legend_label(v) for v in shown])
    axes[0].invert_yaxis()
    caption(fig, f"{interval_note(shown)} · {subtitle(shown)}")
    return save(fig, out_dir, stem)
