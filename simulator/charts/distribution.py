"""Latency distribution per variant: the cumulative distribution (CDF) on a logarithmic time axis.

Percentile bars hide the shape; the CDF shows it all: where most requests finish, how long the
tail is, whether a variant is bimodal (a cache hit and a miss, a retry). It is read from each
variant's merged HDR histogram (microseconds, all replications), the same histogram the
percentiles in ``summary.json`` and ``_stats.csv`` come from, so the curve and the bars agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .look import caption, figure, legend_label, save, styled, subtitle
from ..results.rundata import VariantRun


def cdf_points(encoded: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(latency in seconds, cumulative fraction) from an HDR histogram encoding; None if empty."""
    from hdrh.histogram import HdrHistogram

    if not encoded:
        return None
    hist = HdrHistogram.decode(encoded)
    total = hist.get_total_count()
    if total <= 0:
        return None
    counts = np.ctypeslib.as_array(hist.counts)[: hist.counts_len].astype(float)
    index = np.flatnonzero(counts)
    # Vectorised HdrHistogram.get_value_from_index (the pure-Python iterator is ~100x slower).
    half = hist.sub_bucket_half_count_magnitude
    bucket = (index >> half) - 1
    sub_bucket = (index & (hist.sub_bucket_half_count - 1)) + hist.sub_bucket_half_count
    first = bucket < 0
    sub_bucket = np.where(first, sub_bucket - hist.sub_bucket_half_count, sub_bucket)
    bucket = np.where(first, 0, bucket)
    xs = (sub_bucket << (bucket + hist.unit_magnitude)).astype(float) / 1e6
    ys = np.cumsum(counts[index]) / total
    return xs, ys


@styled
def draw_distribution(variants: list[VariantRun], out_dir: Path, stem: str = "latency-cdf") -> list[Path]:
    """One CDF line per variant (log-x, milliseconds), with the p50/p95/p99 levels marked."""
    curves = []
    for variant in variants:
        points = cdf_points((variant.block.get("histograms") or {}).get("*", ""))
        if points is not None:
            curves.append((variant, points))
    if not curves:
        return []
    fig, ax = figure()
    for variant, (xs, ys) in curves:
        ax.step(np.maximum(xs * 1000, 1e-3), ys, where="post", color=variant.colour, linewidth=2.2,
                label=legend_label(variant), linestyle="--" if variant.source == "measured" else "-")
    for level, name in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        ax.axhline(level, color="0.5", linewidth=0.8, linestyle=":")
        ax.annotate(name, xy=(1.0, level), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=11, color="0.4")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("response time (ms, log scale)")
    ax.set_ylabel("fraction of requests completed")
    ax.set_title("Response time distribution (CDF)")
    caption(fig, subtitle([v for v, _ in curves]))
    ax.legend(loc="lower right", frameon=False)
    return save(fig, out_dir, stem)
