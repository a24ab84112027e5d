"""Latency distribution per variant: the cumulative distribution (CDF) on a logarithmic time axis.

Percentile bars hide the shape; the CDF shows it all: where most requests finish, how long the
tail is, whether a variant is bimodal (a cache hit and a miss, a retry). It is read from each
variant's merged HDR histogram (microseconds, all replications), the same histogram the
percentiles in ``summary.json`` and ``_stats.csv`` come from, so the curve and the bars agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .look import FACET_AFTER, caption, colour_key, figure, legend_label, legend_outside, log_axis, save, styled, subtitle
from ..engine.histogram import bucket_values_s
from ..results.rundata import VariantRun


def cdf_points(encoded: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(latency in seconds, cumulative fraction) from an HDR histogram encoding; None if empty."""
    buckets = bucket_values_s(encoded)
    if buckets is None:
        return None
    xs, counts = buckets
    return xs, np.cumsum(counts) / counts.sum()


SAME_WITHIN = 0.02  #: Two CDFs whose p10..p99 all agree within 2% would hide each other.


def _quantiles(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    levels = np.array([0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])
    return xs[np.minimum(np.searchsorted(ys, levels), len(xs) - 1)]


def _short(label: str, facet: str) -> str:
    """A variant's name inside its style's panel, without the style the panel title already gives."""
    return label[len(facet):].lstrip(" -_:") or label if facet and label.startswith(facet) else label


def _panel(ax, curves, xs_range, facet: str = "") -> None:
    drawn: list[tuple[str, np.ndarray]] = []
    for variant, (xs, ys) in curves:
        label = _short(legend_label(variant), facet)
        quantiles = _quantiles(xs, ys)
        twin = next((name for name, q in drawn if np.all(np.abs(q - quantiles) <= SAME_WITHIN * q)), None)
        linestyle = "--" if variant.source == "measured" else variant.linestyle
        if twin is not None:  # drawn on top of an identical curve: dashed, and the legend says so
            linestyle, label = (0, (4, 3)), f"{label} (= {twin})"
        ax.step(np.maximum(xs * 1000, 1e-3), ys, where="post", color=variant.colour, linewidth=2.2,
                label=label, linestyle=linestyle)
        drawn.append((_short(legend_label(variant), facet), quantiles))
    for level, name, below in ((0.5, "p50", False), (0.95, "p95", True), (0.99, "p99", False)):  # p95 under its line: 4% apart, the labels would overprint
        ax.axhline(level, color="0.5", linewidth=0.8, linestyle=":")
        ax.annotate(name, xy=(0.0, level), xycoords=("axes fraction", "data"), xytext=(4, -2 if below else 2),
                    textcoords="offset points", va="top" if below else "bottom", fontsize=10, color="0.4")
    log_axis(ax, "x", *xs_range, "ms")
    ax.set_ylim(0, 1.01)


@styled
def draw_distribution(variants: list[VariantRun], out_dir: Path, stem: str = "latency-cdf") -> list[Path]:
    """One CDF line per variant (log time axis in ms, ticks 1, 10, 100), p50/p95/p99 marked;
    one small panel per style past :data:`FACET_AFTER` variants."""
    curves = []
    for variant in variants:
        points = cdf_points((variant.block.get("histograms") or {}).get("*", ""))
        if points is not None:
            curves.append((variant, points))
    if not curves:
        return []
    low = max(min(float(xs[np.searchsorted(ys, 0.001)]) for _, (xs, ys) in curves) * 1000, 1e-3)
    high = max(float(xs[-1]) for _, (xs, _) in curves) * 1000
    groups: dict[str, list] = {}
    for variant, points in curves:
        groups.setdefault(colour_key(variant) if len(curves) > FACET_AFTER else "", []).append((variant, points))
    if len(groups) == 1:
        fig, ax = figure(right=3.2)
        _panel(ax, curves, (low, high))
        ax.set_xlabel("response time (ms, log scale)")
        ax.set_ylabel("fraction of requests completed")
        ax.set_title("Response time distribution (CDF)")
        legend_outside(ax)
    else:
        ncols = 3 if len(groups) > 4 else 2
        nrows = -(-len(groups) // ncols)
        fig, axes = figure(nrows, ncols, right=0.0, height=max(6.75, 3.4 * nrows), sharex=True, sharey=True, squeeze=False)
        for ax, (key, members) in zip(axes.flat, groups.items()):
            _panel(ax, members, (low, high), facet=key)
            ax.set_title(key, fontsize=14)
            ax.legend(loc="best", frameon=True, framealpha=0.85, edgecolor="none", fontsize=9)
        for ax in list(axes.flat)[len(groups):]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("response time (ms)")
        for ax in axes[:, 0]:
            ax.set_ylabel("fraction completed")
        fig.suptitle("Response time distribution (CDF) per style", fontsize=16, fontweight="bold")
    caption(fig, "from the merged HDR histograms · " + subtitle([v for v, _ in curves]))
    return save(fig, out_dir, stem)
