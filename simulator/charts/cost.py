"""Cost per million requests and utilisation per variant: what the capacity costs and how much of it works.

Left: cost per million requests (``extras.cost.per_million_requests_usd``, 95% CI), drawn when
runs record cost; without cost the chart is ``utilisation.png`` and shows the right panel alone.
Right: utilisation per variant: the instance-weighted mean over services (how much of what is
paid for is busy) as a bar, and the busiest service (the bottleneck) as a black tick, named.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import formatting
from .look import caption, figure, hatch, legend_label, save, styled, subtitle
from ..results.rundata import VariantRun
from ..results.families import bottleneck_utilisation


def mean_utilisation(variant: VariantRun) -> float | None:
    """Utilisation over all services, weighted by instance count (0-1)."""
    weights, values = [], []
    for name in variant.block.get("services") or {}:
        u = variant.get(f"services.{name}.utilisation")
        n = variant.get(f"services.{name}.instances")
        if u is not None:
            values.append(u.mean)
            weights.append(n.mean if n is not None else 1.0)
    return float(np.average(values, weights=weights)) if values else None


@styled
def draw_cost(variants: list[VariantRun], out_dir: Path, stem: str | None = None) -> list[Path]:
    """Cost per million requests (if recorded) beside mean and bottleneck utilisation per variant.

    The file is ``cost-utilisation`` when any run records cost, else ``utilisation``: the name
    says what the chart shows (runs record cost when the scenario sets prices). One horizontal bar
    per variant, names on the left, so 24 variants read as well as 6.
    """
    costed = [v for v in variants if v.get("extras.cost.per_million_requests_usd") is not None]
    used = [v for v in variants if mean_utilisation(v) is not None]
    if not costed and not used:
        return []
    stem = stem or ("cost-utilisation" if costed else "utilisation")
    shown = costed or used
    panels = 2 if costed and used else 1
    label_width = max(len(legend_label(v)) for v in shown)
    fig, axes = figure(1, panels, right=0.0, height=max(5.5, 2.2 + 0.34 * len(shown)), bottom=0.3, squeeze=False)
    fig.subplots_adjust(left=min(0.45, (0.35 + 0.105 * label_width) / 12.0), wspace=0.45 if panels == 2 else 0.25)
    axes = list(axes[0])
    y = np.arange(len(shown))
    names = [legend_label(v) for v in shown]
    if costed:
        ax = axes[0]
        estimates = [v.get("extras.cost.per_million_requests_usd") for v in costed]
        bars = ax.barh(y, [e.mean for e in estimates], 0.72, xerr=[e.ci95 or 0 for e in estimates], capsize=3,
                       color=[v.colour for v in costed], hatch=None, error_kw={"elinewidth": 1.2, "ecolor": "0.15"})
        for bar, variant in zip(bars, costed):
            bar.set_hatch(hatch(variant))
        ax.bar_label(bars, labels=[formatting.money(e.mean) for e in estimates], padding=6, fontsize=11)
        ax.set_xlim(0, max(e.high for e in estimates) * 1.3)
        ax.set_xlabel("USD per million requests")
        ax.set_title("Cost per million requests")
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.grid(False, axis="y")
    if used:
        ax = axes[-1]
        means = [(mean_utilisation(v) or 0) * 100 for v in shown]
        busiest = [bottleneck_utilisation(v) or ("", 0.0) for v in shown]
        ax.barh(y, means, 0.72, color=[v.colour for v in shown])
        ax.scatter([b[1] * 100 for b in busiest], y, marker="|", s=500, linewidths=3, color="black", zorder=3)
        for i, (name, u) in enumerate(busiest):
            ax.annotate(f"{name} {formatting.percent(u)}", xy=(u * 100, y[i]), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=10)
        ax.set_xlim(0, 125)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel("utilisation (%)")
        ax.set_title("Utilisation per variant")
        ax.set_yticks(y, names if panels == 1 else [""] * len(y))
        if panels == 1:
            ax.invert_yaxis()
        else:
            ax.set_ylim(axes[0].get_ylim())
        ax.grid(False, axis="y")
        handles = [Patch(facecolor="0.6", label="bar: mean over all instances (variant's colour)"),
                   Line2D([], [], color="black", marker="|", linestyle="none", markersize=16, markeredgewidth=3,
                          label="tick: the busiest service")]
        # 0.22 in from the bottom whatever the height (a share of a tall figure reached into the axis label)
        fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.22 / fig.get_figheight()), ncols=2,
                   frameon=False, fontsize=11)
    caption(fig, subtitle(shown))
    return save(fig, out_dir, stem)
