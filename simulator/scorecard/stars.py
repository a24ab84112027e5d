"""Stars: turning measured numbers into 1-5 ratings relative to the variants compared.

The best variant on a measure gets five stars, the worst one, and the rest sit in between in
proportion to where their value falls, on a logarithmic scale when every value is positive (so
"twice as fast" is the same step at 10 ms as at 1 s) and a linear one otherwise (error counts
that can be zero). When the best and worst variants' 95% confidence intervals overlap, the
measure cannot tell them apart and every variant gets three stars.
"""

from __future__ import annotations

import math

from ..results.rundata import Estimate

ALL_SAME = 3  #: Stars everyone gets when a measure cannot tell the variants apart.


def positions(values: dict[str, Estimate | None], better: str) -> dict[str, float] | None:
    """Each variant's place between worst (0) and best (1); None if fewer than two have a value.

    A variant without a value is left out. When best and worst cannot be told apart (equal, or
    overlapping 95% CIs) every variant gets 0.5.
    """
    known = {k: v for k, v in values.items() if v is not None and math.isfinite(v.mean)}
    if len(known) < 2:
        return None
    lower_is_better = better == "lower"
    best_key = (min if lower_is_better else max)(known, key=lambda k: known[k].mean)
    worst_key = (max if lower_is_better else min)(known, key=lambda k: known[k].mean)
    best, worst = known[best_key], known[worst_key]
    if best.mean == worst.mean or _overlap(best, worst):
        return {k: 0.5 for k in known}
    logscale = all(v.mean > 0 for v in known.values())

    def f(x: float) -> float:
        return math.log(x) if logscale else x

    span = f(best.mean) - f(worst.mean)
    return {k: min(1.0, max(0.0, (f(v.mean) - f(worst.mean)) / span)) for k, v in known.items()}


def _overlap(a: Estimate, b: Estimate) -> bool:
    if a.ci95 is None or b.ci95 is None:
        return False
    return a.low <= b.high and b.low <= a.high


def to_stars(position: float) -> int:
    """A position in [0, 1] as 1-5 stars (0 -> 1, 1 -> 5)."""
    return 1 + int(math.floor(position * 4 + 0.5))


def star_text(stars: int | None) -> str:
    """★★★☆☆ for 3; a dash when there is no rating."""
    if stars is None:
        return "–"
    return "★" * stars + "☆" * (5 - stars)
