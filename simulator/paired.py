"""Is B different from A? The 95% interval of a difference, paired when the runs allow it.

Two variants run with the same seed and replication count share their random numbers (common
random numbers, :mod:`simulator.engine.rng`): replication ``i`` of A and replication ``i`` of B saw
the same arrivals and the same demands. Their per-replication differences ``b_i - a_i`` then
carry little of the noise both share, and a paired Student-t interval on them is much narrower
than Welch's unpaired interval, which treats the two samples as independent. Runs that do not
share seed and replications (or lack per-replication values) fall back to Welch's interval.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from .results.rundata import Estimate

PAIRED = "paired"  #: Per-replication differences, Student t with n - 1 degrees of freedom.
WELCH = "Welch"  #: Unpaired, unequal variances, Welch-Satterthwaite degrees of freedom.
EXACT = "exact"  #: Neither side has sampling noise (structural figures): no interval needed.
NONE = "none"  #: One replication on a side: no interval can be made.
ONE_SIDED = "one-sided"  #: One side exact: the other side's own interval.
OVERLAP = "CI overlap"  #: Intervals given without their values: significant when they do not overlap.


@dataclass(frozen=True)
class Interval:
    """The 95% interval of mean(b) - mean(a) and how it was made."""

    diff: float
    ci95: float | None  #: Half-width; None when ``method`` is :data:`NONE`; 0 when :data:`EXACT`.
    method: str

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0 (an exact difference is significant when not 0)."""
        return self.ci95 is not None and abs(self.diff) > self.ci95


def _t975(df: float) -> float:
    from scipy.special import stdtrit  # far lighter to import than scipy.stats

    return float(stdtrit(df, 0.975))


def exact(e: Estimate) -> bool:
    """A figure with no sampling noise: no interval and no per-replication values (e.g. a count of deployables)."""
    return e.ci95 is None and not e.values


def difference(a: Estimate, b: Estimate, paired: bool) -> Interval:
    """The interval of ``b - a``: paired if ``paired`` and both have the same number (>= 2) of
    per-replication values, Welch if both have >= 2, exact if neither has noise; the noisy side's
    interval if one is exact; the sum of the half-widths if only intervals are known; else none."""
    diff = b.mean - a.mean
    if exact(a) and exact(b):
        return Interval(diff, 0.0, EXACT)
    if exact(a) or exact(b):  # one side is exact: the other's own interval
        noisy = b if exact(a) else a
        return Interval(diff, noisy.ci95, ONE_SIDED if noisy.ci95 is not None else NONE)
    na, nb = len(a.values), len(b.values)
    if na < 2 or nb < 2:
        if a.ci95 is not None and b.ci95 is not None:  # intervals without their values: do they overlap?
            return Interval(diff, a.ci95 + b.ci95, OVERLAP)
        return Interval(diff, None, NONE)
    if paired and na == nb:
        d = [y - x for x, y in zip(a.values, b.values)]
        return Interval(diff, _t975(na - 1) * statistics.stdev(d) / math.sqrt(na), PAIRED)
    va = statistics.variance(a.values) / na
    vb = statistics.variance(b.values) / nb
    if va + vb == 0:
        return Interval(diff, 0.0, WELCH)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return Interval(diff, _t975(df) * math.sqrt(va + vb), WELCH)


def shared_randomness(a: dict, b: dict) -> bool:
    """Whether two runs' ``summary.json`` share seed and replication count (so they can be paired)."""
    return a.get("seed") is not None and a.get("seed") == b.get("seed") and a.get("replications") == b.get("replications")
