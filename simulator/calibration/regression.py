"""Utilisation regression: each tier's CPU as a non-negative combination of per-operation throughputs.

The service demand law says a tier's busy cores equal the sum over its operations of throughput
times demand (plus a constant for work no request causes: health checks, timers, garbage
collection). Over several runs that is a linear regression of CPU on throughputs (Rolia and
Vetland 1995; LibReDE's ``UtilizationRegression``), solved here by non-negative least squares
(``scipy.optimize.nnls``), since a demand cannot be negative.

Standard errors come from a bootstrap over runs (rows resampled with replacement, refitted; the
spread of the refits). One load mix makes the per-operation throughputs proportional to each
other, so only their mix-weighted total is identified: the regression then says so (condition
number) and also fits that total alone, which every estimator can be checked against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from .estimate import Fitted
from .observations import Observation
from .structure import Structure

BOOTSTRAP_SAMPLES = 400  #: Refits for the standard errors.
IDENTIFIABLE_CONDITION = 200.0  #: Above this condition number (columns scaled to unit norm) the split is not identified.


@dataclass(frozen=True)
class TierRegression:
    """The regression of one tier's CPU on its operations' throughputs."""

    tier: str
    demands: dict[str, Fitted]  #: Operation -> CPU seconds per visit.
    idle_cores: Fitted  #: CPU used with no load (the intercept).
    per_request: Fitted  #: Mix-weighted CPU seconds per request of the entry tier (identified with one mix).
    condition_number: float
    runs: int

    @property
    def split_identified(self) -> bool:
        return self.condition_number <= IDENTIFIABLE_CONDITION


def _design(structure: Structure, tier: str, observations: list[Observation]) -> tuple[list[str], np.ndarray]:
    operations = [op for _, op in structure.operations(tier)]
    rows = []
    for obs in observations:
        rows.append([
            sum(obs.classes[c].throughput_per_s * structure.visits[c].get((tier, op), 0) for c in obs.classes if c in structure.visits)
            for op in operations
        ])
    return operations, np.asarray(rows, dtype=float)


def _nnls_with_intercept(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """NNLS of y on [x, 1]; columns scaled to unit norm for conditioning, then scaled back."""
    design = np.column_stack([x, np.ones(len(y))])
    norms = np.linalg.norm(design, axis=0)
    norms[norms == 0] = 1.0
    coefficients, _ = nnls(design / norms, y)
    return coefficients / norms


def _condition(x: np.ndarray) -> float:
    design = np.column_stack([x, np.ones(len(x))])
    norms = np.linalg.norm(design, axis=0)
    norms[norms == 0] = 1.0
    singular = np.linalg.svd(design / norms, compute_uv=False)
    return float(singular[0] / singular[-1]) if singular[-1] > 0 else float("inf")


def _bootstrap(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray | None:
    """Standard error of each coefficient over bootstrap refits (None with fewer than 3 runs)."""
    n = len(y)
    if n < 3:
        return None
    rng = np.random.default_rng(seed)
    refits = []
    for _ in range(BOOTSTRAP_SAMPLES):
        pick = rng.integers(0, n, n)
        if np.unique(pick).size < 2:
            continue
        refits.append(_nnls_with_intercept(x[pick], y[pick]))
    return np.std(np.asarray(refits), axis=0, ddof=1)


def regress_tier(structure: Structure, tier: str, observations: list[Observation], seed: int = 1) -> TierRegression:
    """Fit one tier's per-operation demands and idle CPU from the runs that measured its CPU."""
    used = [o for o in observations if tier in o.tier_cpu_cores and not o.hold_out]
    if len(used) < 2:
        raise ValueError(f"utilisation regression of tier '{tier}' needs CPU measured in at least 2 runs, got {len(used)}")
    operations, x = _design(structure, tier, used)
    y = np.asarray([o.tier_cpu_cores[tier] for o in used])
    coefficients = _nnls_with_intercept(x, y)
    errors = _bootstrap(x, y, seed)
    condition = _condition(x)
    source = f"utilisation regression (NNLS) over {len(used)} runs"
    demands = {
        op: Fitted(float(coefficients[i]), None if errors is None else float(errors[i]), source)
        for i, op in enumerate(operations)
    }
    # The mix-weighted CPU per request: the same regression on total request throughput.
    requests = np.asarray([o.throughput_per_s for o in used])
    total_coefficients = _nnls_with_intercept(requests[:, None], y)
    total_errors = _bootstrap(requests[:, None], y, seed + 1)
    per_request = Fitted(float(total_coefficients[0]), None if total_errors is None else float(total_errors[0]),
                         f"utilisation regression of CPU on total throughput over {len(used)} runs")
    idle = Fitted(float(coefficients[-1]), None if errors is None else float(errors[-1]), source, unit="cores")
    return TierRegression(tier, demands, idle, per_request, condition, len(used))
