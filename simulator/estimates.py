"""Means of per-replication values with 95% confidence intervals: the one formula everyone uses.

``mean +/- t(0.975, n-1) * s / sqrt(n)`` (Student t). The engine's summaries, measured runs, the
charts and the scorecard all go through :func:`estimate`, so one number has one interval wherever
it is shown. A leaf module: it imports only NumPy and SciPy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import stdtrit  # Student-t quantile; far lighter to import than scipy.stats


def estimate(values: list[float]) -> dict[str, Any]:
    """Mean, 95% Student-t half-width and bounds of per-replication values (NaNs ignored)."""
    clean = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    n = len(clean)
    if n == 0:
        return {"mean": None, "ci95": None, "low": None, "high": None, "n": 0, "values": values}
    mean = float(np.mean(clean))
    if n < 2:
        return {"mean": mean, "ci95": None, "low": None, "high": None, "n": n, "values": values}
    sd = float(np.std(clean, ddof=1))
    if sd <= 1e-12 * max(abs(mean), 1e-300):  # identical replications: no spread, not rounding noise
        sd = 0.0
    half = float(stdtrit(n - 1, 0.975) * sd / math.sqrt(n))
    return {"mean": mean, "ci95": half, "low": mean - half, "high": mean + half, "n": n, "values": values}
