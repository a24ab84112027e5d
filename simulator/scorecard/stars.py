"""Stars: turning measured numbers into 1-5 ratings relative to the variants compared.

The best variant on a measure gets five stars, the worst one, and the rest sit in between in
proportion to where their value falls, on a logarithmic scale when every value is positive (so
"twice as fast" is the same step at 10 ms as at 1 s) and a linear one otherwise (error counts
that can be zero). Variants whose difference is not significant at 95% (a paired interval when
the runs share their random numbers, Welch's otherwise) share their stars; when no difference is
significant every variant gets three. With one replication nothing is ranked.
"""

from __future__ import annotations

import math

from ..paired import difference, exact
from ..results.rundata import Estimate

ALL_SAME = 3  #: Stars everyone gets when a measure cannot tell the variants apart.


def positions(values: dict[str, Estimate | None], better: str, paired: bool) -> dict[str, float] | None:
    """Each variant's place between worst (0) and best (1); None if it cannot be scored.

    A variant without a value is left out; None when fewer than two have one, or when a noisy
    figure has fewer than two per-replication values (no difference can be told from noise).
    Variants are sorted best first, and neighbours whose difference is not significant at 95%
    (:func:`simulator.paired.difference`: ``paired`` when the runs share seed and replications,
    Welch otherwise) fall into one group; every member of a group gets the group's mean place,
    so a difference the runs cannot show gives equal stars. One group: every variant gets 0.5.
    """
    known = {k: v for k, v in values.items() if v is not None and math.isfinite(v.mean)}
    if len(known) < 2 or any(not exact(v) and len(v.values) < 2 and v.ci95 is None for v in known.values()):
        return None
    lower_is_better = better == "lower"
    order = sorted(known, key=lambda k: known[k].mean, reverse=not lower_is_better)
    groups: list[list[str]] = [[order[0]]]
    for previous, current in zip(order, order[1:]):
        if difference(known[previous], known[current], paired).significant:
            groups.append([current])
        else:
            groups[-1].append(current)
    if len(groups) == 1:
        return {k: 0.5 for k in known}
    best, worst = known[order[0]].mean, known[order[-1]].mean
    logscale = all(v.mean > 0 for v in known.values())

    def f(x: float) -> float:
        return math.log(x) if logscale else x

    span = f(best) - f(worst)
    place = {k: min(1.0, max(0.0, (f(v.mean) - f(worst)) / span)) for k, v in known.items()}
    out = {}
    for group in groups:
        mean_place = sum(place[k] for k in group) / len(group)
        out.update({k: mean_place for k in group})
    return out


def to_stars(position: float) -> int:
    """A position in [0, 1] as 1-5 stars (0 -> 1, 1 -> 5)."""
    return 1 + int(math.floor(position * 4 + 0.5))


def star_text(stars: int | None) -> str:
    """★★★☆☆ for 3; a dash when there is no rating."""
    if stars is None:
        return "–"
    return "★" * stars + "☆" * (5 - stars)
