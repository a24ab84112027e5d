"""Scalability: throughput against instances, with a Universal Scalability Law fit.

Gunther's Universal Scalability Law models the capacity of N instances as

    X(N) = λN / (1 + σ(N − 1) + κN(N − 1))

where λ is the throughput of one instance, σ the **contention** coefficient (the share of work
that serialises, as in Amdahl's law) and κ the **coherency** coefficient (the cost of instances
keeping each other consistent, which makes capacity fall after a peak at N* = √((1 − σ)/κ)).

Points come from sweeps that differ only in instance counts and offered load (see
:mod:`simulator.results.families`, which also fits the curve); the capacity at each N is the bottleneck estimate X / U_max (what the instances
could carry with the busiest service 100% busy) or a run's measured capacity. The fit uses
``scipy.optimize.curve_fit`` with σ, κ in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import formatting
from .look import caption, figure, number_formatter, save, styled, subtitle
from ..results.rundata import VariantRun
from ..results.families import scalability_sweeps, usl

@styled
def draw_scalability(variants: list[VariantRun], out_dir: Path, stem: str = "scalability-usl") -> list[Path]:
    """Capacity vs instances with the USL curve, σ and κ printed; nothing without an instance sweep."""
    sweeps = scalability_sweeps(variants)
    if not sweeps:
        return []
    fig, ax = figure(right=0.0, bottom=0.25 * len(sweeps) + 0.3)
    top_n = max(max(fit.instances) for _, _, fit in sweeps)
    for label, members, fit in sweeps:
        colour = members[0].colour
        grid = np.linspace(1, top_n * 1.5, 200)
        ax.scatter(fit.instances, fit.throughput, color=colour, s=70, zorder=3)
        peak = fit.peak_instances
        text = f"{label}: λ = {formatting.rate(fit.lam)}, σ = {fit.sigma:.3f} (contention), κ = {fit.kappa:.4f} (coherency)"
        if peak is not None and peak < top_n * 10:
            text += f", peak at N≈{peak:.1f}"
        ax.plot(grid, usl(grid, fit.lam, fit.sigma, fit.kappa), color=colour, linewidth=2.2, label=text)
        ax.plot(grid, fit.lam * grid, color=colour, linewidth=1, linestyle=":", alpha=0.6)
    ax.set_xlabel("instances (N)")
    ax.set_ylabel("capacity (requests/s)")
    ax.yaxis.set_major_formatter(number_formatter())
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title("Scalability: capacity vs instances, Universal Scalability Law fit")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.13), frameon=False, fontsize=11)  # under the axes: never on a curve
    caption(fig, "dots: X / U_bottleneck per variant · line: USL fit · dotted: linear scaling · "
            + subtitle([v for _, m, _ in sweeps for v in m]))
    return save(fig, out_dir, stem)
