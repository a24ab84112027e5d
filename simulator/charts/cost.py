"""Cost per million requests and utilisation per variant: what the capacity costs and how much of it works.

Left: cost per million requests (``extras.cost.per_million_requests_usd``, 95% CI), drawn when
runs record cost; without cost the chart is ``utilisation.png`` and shows the right panel alone. Right: utilisation per variant: the instance-weighted mean over services (how
much of what is paid for is busy) as a bar, and the busiest service (the bottleneck) as a marker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .look import caption, figure, legend_label, save, styled, subtitle
from ..results.rundata import VariantRun
from .sweeps import bottleneck_utilisation


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
    says what the chart shows (runs record cost when the scenario sets prices).
    """
    costed = [v for v in variants if v.get("extras.cost.per_million_requests_usd") is not None]
    used = [v for v in variants if mean_utilisation(v) is not None]
    if not costed and not used:
        return []
    stem = stem or ("cost-utilisation" if costed else "utilisation")
    fig, axes = figure(1, 2 if costed and used else 1)
    axes = list(axes) if costed and used else [axes]
    if costed:
        ax = axes[0]
        estimates = [v.get("extras.cost.per_million_requests_usd") for v in costed]
        bars = ax.bar([legend_label(v) for v in costed], [e.mean for e in estimates], yerr=[e.ci95 or 0 for e in estimates],
                      color=[v.colour for v in costed], capsize=4)
        ax.bar_label(bars, labels=[f"${e.mean:,.2f}" for e in estimates], padding=3, fontsize=12)
        ax.set_ylabel("USD per million requests")
        ax.set_title("Cost per million requests")
        ax.tick_params(axis="x", rotation=30)
    if used:
        ax = axes[-1]
        labels = [legend_label(v) for v in used]
        means = [mean_utilisation(v) * 100 for v in used]
        ax.bar(labels, means, color=[v.colour for v in used], label="mean over instances")
        peaks = [(bottleneck_utilisation(v) or ("", 0))[1] * 100 for v in used]
        ax.scatter(labels, peaks, marker="_", s=900, linewidths=3, color="black", zorder=3, label="busiest service")
        for x, v in enumerate(used):
            name = (bottleneck_utilisation(v) or ("", 0))[0]
            ax.annotate(name, xy=(x, peaks[x]), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=10)
        ax.set_ylim(0, 110)
        ax.set_ylabel("utilisation (%)")
        ax.set_title("Utilisation per variant")
        ax.tick_params(axis="x", rotation=30)
        ax.legend(loc="upper left", frameon=False, ncols=2)
    caption(fig, subtitle(costed or used))
    return save(fig, out_dir, stem)
