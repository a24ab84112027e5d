"""Scalability: throughput against instances, with a Universal Scalability Law fit.

Gunther's Universal Scalability Law models the capacity of N instances as

    X(N) = λN / (1 + σ(N − 1) + κN(N − 1))

where λ is the throughput of one instance, σ the **contention** coefficient (the share of work
that serialises, as in Amdahl's law) and κ the **coherency** coefficient (the cost of instances
keeping each other consistent, which makes capacity fall after a peak at N* = √((1 − σ)/κ)).

Points come from sweeps that differ only in instance counts and offered load (see
:mod:`.sweeps`); the capacity at each N is the bottleneck estimate X / U_max (what the instances
could carry with the busiest service 100% busy) or a run's measured capacity. The fit uses
``scipy.optimize.curve_fit`` with σ, κ in [0, 1].
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import formatting
from .look import caption, figure, number_formatter, save, styled, subtitle
from ..results.rundata import VariantRun
from .sweeps import families, family_label, max_sustainable_throughput, total_instances, varying_services

MIN_POINTS = 3  #: Three parameters need at least three instance counts.


def usl(n, lam: float, sigma: float, kappa: float):
    """Universal Scalability Law: capacity of ``n`` instances."""
    n = np.asarray(n, dtype=float)
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


@dataclass(frozen=True)
class UslFit:
    """A fitted USL curve and the points it was fitted to."""

    lam: float  #: Throughput of one instance (requests/s).
    sigma: float  #: Contention coefficient.
    kappa: float  #: Coherency coefficient.
    instances: tuple[float, ...]
    throughput: tuple[float, ...]

    @property
    def peak_instances(self) -> float | None:
        """N* = √((1 − σ)/κ), where capacity peaks; None when κ is 0 (no retrograde region)."""
        return math.sqrt((1 - self.sigma) / self.kappa) if self.kappa > 1e-12 else None

    def efficiency(self, n: float) -> float:
        """X(n) / (n X(1)): 1 is linear scaling."""
        return float(1 / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1)))


def fit_usl(instances: list[float], throughput: list[float]) -> UslFit | None:
    """Least-squares USL fit; None with fewer than three distinct instance counts or no convergence."""
    from scipy.optimize import curve_fit

    if len(set(instances)) < MIN_POINTS:
        return None
    n = np.asarray(instances, float)
    x = np.asarray(throughput, float)
    lam0 = float(np.max(x[n == n.min()]) / n.min())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = curve_fit(usl, n, x, p0=[lam0, 0.01, 0.0001], bounds=([0, 0, 0], [np.inf, 1, 1]), maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    return UslFit(float(params[0]), float(params[1]), float(params[2]), tuple(instances), tuple(throughput))


def scalability_sweeps(variants: list[VariantRun]) -> list[tuple[str, list[VariantRun], UslFit]]:
    """(label, variants, fit) for each sweep over instance counts that can be fitted."""
    out = []
    for family in families(variants, instances=True):
        services = varying_services(family)
        if not services:
            continue
        best: dict[float, float] = {}
        members = []
        for variant in family:
            n = total_instances(variant, services)
            capacity = max_sustainable_throughput(variant)
            if n is None or capacity is None:
                continue
            best[n] = max(best.get(n, 0.0), capacity.mean)
            members.append(variant)
        fit = fit_usl(list(best), [best[n] for n in best])
        if fit is not None:
            out.append((family_label(members) + f" ({'+'.join(services)})", members, fit))
    return out


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
