"""The shape of a demand distribution, fitted from per-request CPU reports instead of assumed.

The services report each request's own CPU time (``X-CPU-Time-Ms``). Their mean is the demand the
tier's code spends inside the request; their coefficient of variation (standard deviation over
mean) is the shape the calibrated scenario gives the demand: a gamma distribution of that mean and
CV (CV 1 is exponential, near 0 is constant). The shape matters for queueing: the wait in an
M/G/1 queue grows with (1 + CV²) / 2, so an exponential assumption overstates waits for demands
that are nearly constant. Standard errors are bootstrap spreads over the requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .estimate import Fitted

BOOTSTRAP_SAMPLES = 300
MAX_BOOTSTRAP_SIZE = 20_000  #: Larger samples are subsampled for the bootstrap (the spread scales as 1/sqrt(n)).


@dataclass(frozen=True)
class DemandShape:
    mean_s: Fitted
    cv: Fitted
    requests: int


def fit_shape(values_s: np.ndarray, *, what: str, seed: int = 1) -> DemandShape:
    """Mean and coefficient of variation of per-request CPU seconds, each with a standard error."""
    values = np.asarray(values_s, dtype=float)
    values = values[np.isfinite(values) & (values >= 0)]
    if values.size < 10:
        raise ValueError(f"{what}: need at least 10 per-request CPU reports to fit a shape, got {values.size}")
    mean = float(values.mean())
    cv = float(values.std(ddof=1) / mean) if mean > 0 else 0.0
    rng = np.random.default_rng(seed)
    sample = values if values.size <= MAX_BOOTSTRAP_SIZE else rng.choice(values, MAX_BOOTSTRAP_SIZE, replace=False)
    scale = np.sqrt(sample.size / values.size)
    cvs = []
    for _ in range(BOOTSTRAP_SAMPLES):
        draw = rng.choice(sample, sample.size, replace=True)
        m = draw.mean()
        cvs.append(draw.std(ddof=1) / m if m > 0 else 0.0)
    source = f"{values.size} per-request CPU reports ({what})"
    mean_error = float(values.std(ddof=1) / np.sqrt(values.size))
    return DemandShape(Fitted(mean, mean_error, source), Fitted(cv, float(np.std(cvs, ddof=1) * scale), source, unit="ratio"), int(values.size))
