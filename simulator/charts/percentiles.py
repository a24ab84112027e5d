"""Latency percentiles per variant: grouped bars of p50, p95 and p99 with 95% CI error bars.

The first chart of a design review: how long requests take, typically and in the tail, for each
variant. Bars are grouped by percentile so variants sit side by side in their own colours; the
axis turns logarithmic when variants differ by more than 20x, so a saturated variant does not
flatten the others into the floor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import LogLocator, NullFormatter

from .look import caption, figure, legend_label, number_formatter, save, seconds_label, styled, subtitle
from ..results.rundata import VariantRun

PERCENTILES = (("p50", "latency_p50_s"), ("p95", "latency_p95_s"), ("p99", "latency_p99_s"))


@styled
def draw_percentiles(variants: list[VariantRun], out_dir: Path, stem: str = "latency-percentiles") -> list[Path]:
    """Grouped bars p50/p95/p99 per variant with 95% CI error bars; nothing if no latencies."""
    shown = [v for v in variants if v.get("overall.latency_p95_s") is not None]
    if not shown:
        return []
    top = max(v.get(f"overall.{key}").high for v in shown for _, key in PERCENTILES if v.get(f"overall.{key}"))
    scale, unit = seconds_label(top)
    fig, ax = figure()
    width = 0.8 / len(shown)
    x = np.arange(len(PERCENTILES))
    values = []
    for i, variant in enumerate(shown):
        means, errors = [], []
        for _, key in PERCENTILES:
            est = variant.get(f"overall.{key}")
            means.append(est.mean * scale if est else np.nan)
            errors.append((est.ci95 or 0.0) * scale if est else 0.0)
        values.extend(m for m in means if m == m)
        lower = [min(e, m * 0.999) if m == m else 0 for m, e in zip(means, errors)]  # a bar never dips below 0
        ax.bar(x + (i - (len(shown) - 1) / 2) * width, means, width * 0.92, yerr=[lower, errors], capsize=4,
               color=variant.colour, label=legend_label(variant), edgecolor="white", linewidth=0.5,
               hatch="//" if variant.source == "measured" else None)
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 20:
        ax.set_yscale("log")
        ax.set_ylim(bottom=min(positive) / 3)  # wide CIs must not drag the axis down to nothing
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(number_formatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(x, [name for name, _ in PERCENTILES])
    ax.set_ylabel(f"latency ({unit})")
    ax.set_xlabel("percentile (error bars: 95% confidence interval)")
    ax.set_title("Response time percentiles per variant")
    caption(fig, subtitle(shown))
    ax.legend(ncols=min(3, len(shown)), loc="upper left", frameon=False)
    return save(fig, out_dir, stem)
