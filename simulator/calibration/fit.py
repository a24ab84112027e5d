"""Every estimator on one set of measurements, cross-checked, into one :class:`Calibration`.

Which number the calibrated model uses:

- demands and the per-hop cost: the response-time estimator (``response_time.py``), which uses
  the per-class latencies as well as the CPU counters and identifies per-class demands at one
  load mix; or, with ``demands_from_reports``, each operation's mean per-request CPU report
  (``shape.py``) where it has one, the response-time estimator then fitting only the per-hop cost
  and the rest around them (its free fit becomes a cross-check);
- demand shapes (CV): the per-request CPU reports of a tier (``shape.py``); a tier without such
  reports (the database) keeps CV 1 (exponential), and the file says it is assumed;
- structure and sizes: the deployment that was run (``structure.py``).

The utilisation regression (``regression.py``) and the per-request CPU reports are the cross-checks:
for every tier the mix-weighted CPU per request from each source, and for each operation where
the source identifies it. Two figures disagree only when the difference is an effect, not noise:
more than twice their combined standard error ``sqrt(se_a² + se_b²)`` *and* more than 10% of the
model's value. Every check is reported, agreeing or not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .estimate import Fitted
from .observations import CpuSamples, Observation
from .parameters import ModelParameters, Operation
from .regression import TierRegression, regress_tier
from .response_time import ResponseTimeFit, fit_response_time
from .shape import DemandShape, fit_shape
from .structure import Structure

ASSUMED_CV = 1.0  #: Shape of a demand without per-request reports (exponential).
SIGNIFICANT_SE = 2.0  #: A difference beyond this many combined standard errors is not noise (two-sided ~5%).
MATERIAL_DIFFERENCE = 0.10  #: ... and beyond this share of the model's value it matters for a prediction.


@dataclass(frozen=True)
class CrossCheck:
    """One quantity estimated two ways."""

    quantity: str  #: e.g. ``monolith: CPU per request (mix-weighted)``.
    primary: Fitted
    other: Fitted

    @property
    def relative_difference(self) -> float:
        return (self.other.value - self.primary.value) / self.primary.value if self.primary.value else math.inf

    @property
    def agrees(self) -> bool | None:
        """False only when the difference is both significant and large; None when an error is unknown.

        Significant: more than ``SIGNIFICANT_SE`` combined standard errors
        (``sqrt(se_a² + se_b²)``), so noise alone disagrees about 5% of the time under normal
        errors. Large: more than ``MATERIAL_DIFFERENCE`` of the model's value, so a difference
        too small to matter to a prediction is not flagged however many runs pinned it down.
        """
        if self.primary.std_error is None or self.other.std_error is None:
            return None
        combined = math.hypot(self.primary.std_error, self.other.std_error)
        difference = abs(self.other.value - self.primary.value)
        significant = difference > SIGNIFICANT_SE * combined
        material = difference > MATERIAL_DIFFERENCE * abs(self.primary.value)
        return not (significant and material)


@dataclass
class Calibration:
    structure: Structure
    parameters: ModelParameters
    response_time: ResponseTimeFit  #: The response-time estimator with every demand free (a cross-check when reports are the model's).
    regressions: dict[str, TierRegression]
    shapes: dict[Operation, DemandShape]
    cross_checks: list[CrossCheck]
    mix: dict[str, float]
    warnings: list[str] = field(default_factory=list)

    def per_request_demand(self, tier: str, demands: dict[Operation, float] | None = None) -> float:
        """Mix-weighted CPU seconds per request at ``tier`` under the calibrated (or given) demands."""
        values = demands or {k: f.value for k, f in self.parameters.demands.items()}
        return sum(share * n * values[op] for c, share in self.mix.items() if c in self.structure.visits
                   for op, n in self.structure.visits[c].items() if op[0] == tier)

    def saturation_per_s(self) -> float:
        """The model's saturation throughput at the fitted mix: the bottleneck tier's servers / demand."""
        bounds = [tier.servers / d for name, tier in self.structure.tiers.items() if (d := self.per_request_demand(name)) > 0]
        return min(bounds) if bounds else math.inf


def mean_mix(observations: list[Observation]) -> dict[str, float]:
    used = [o for o in observations if not o.hold_out] or observations
    classes = {c for o in used for c in o.classes}
    return {c: float(np.mean([o.mix().get(c, 0.0) for o in used])) for c in sorted(classes)}


def calibrate(structure: Structure, observations: list[Observation], cpu_samples: list[CpuSamples] | None = None,
              *, demands_from_reports: bool = False) -> Calibration:
    """Fit the model's parameters and cross-check the estimators (see the module docstring)."""
    shapes: dict[Operation, DemandShape] = {}
    for samples in cpu_samples or []:
        for c, values in samples.by_class.items():
            op = structure.reported_operation(c) if c in structure.visits else (samples.tier, c)
            if op[0] == samples.tier and op in structure.operations(samples.tier) and values.size >= 10:
                shapes[op] = fit_shape(values, what=f"{op[0]}.{op[1]}")
    cv_values = {op: shapes[op].cv.value if op in shapes else ASSUMED_CV for op in structure.operations()}
    initial = {op: shape.mean_s.value for op, shape in shapes.items()}
    rt = fit_response_time(structure, observations, cv=cv_values, initial=initial)
    regressions = {}
    warnings = []
    for tier in structure.tiers:
        if sum(1 for o in observations if tier in o.tier_cpu_cores and not o.hold_out) >= 2:
            regressions[tier] = regress_tier(structure, tier, observations)
    cv = {op: shapes[op].cv if op in shapes else Fitted(ASSUMED_CV, None, "assumed exponential: no per-request CPU reports for this tier", unit="ratio")
          for op in structure.operations()}
    model = rt
    if demands_from_reports and shapes:
        model = fit_response_time(structure, observations, cv=cv_values, fixed={op: shape.mean_s for op, shape in shapes.items()})
    parameters = ModelParameters(dict(model.demands), cv, model.hop_s)
    calibration = Calibration(structure, parameters, rt, regressions, shapes, [], mean_mix(observations), warnings)
    calibration.cross_checks = _cross_checks(calibration)
    for check in calibration.cross_checks:
        if check.agrees is False:
            warnings.append(f"{check.quantity}: {check.other.source} gives {check.other.describe()}, "
                            f"{check.relative_difference:+.0%} from the model's {check.primary.describe()}")
    return calibration


def _per_request_error(calibration: Calibration, tier: str) -> float | None:
    """Standard error of the mix-weighted demand, from the per-operation errors (independent)."""
    total = 0.0
    for c, share in calibration.mix.items():
        for op, n in calibration.structure.visits.get(c, {}).items():
            if op[0] == tier:
                error = calibration.parameters.demands[op].std_error
                if error is None or not math.isfinite(error):
                    return None
                total += (share * n * error) ** 2
    return math.sqrt(total)


def _cross_checks(calibration: Calibration) -> list[CrossCheck]:
    checks = []
    s = calibration.structure
    estimator = calibration.response_time.demands
    for tier in s.tiers:
        primary = Fitted(calibration.per_request_demand(tier), _per_request_error(calibration, tier),
                         calibration.parameters.demands[next(iter(s.operations(tier)))].source)
        regression = calibration.regressions.get(tier)
        if regression is not None:
            checks.append(CrossCheck(f"{tier}: CPU per request (mix-weighted)", primary, regression.per_request))
            if regression.split_identified:
                for op, fitted in regression.demands.items():
                    checks.append(CrossCheck(f"{tier}.{op}: demand", calibration.parameters.demands[(tier, op)], fitted))
        reported = [(op, shape) for op, shape in calibration.shapes.items() if op[0] == tier]
        if reported and all(calibration.parameters.demands[op] is shape.mean_s for op, shape in reported):
            # the reports are the model: the response-time estimator, fitted freely, is the cross-check
            total = calibration.per_request_demand(tier, {op: f.value for op, f in estimator.items()})
            errors = [share * n * estimator[op].std_error for c, share in calibration.mix.items()
                      for op, n in s.visits.get(c, {}).items() if op[0] == tier]
            checks.append(CrossCheck(f"{tier}: CPU per request (mix-weighted)", primary,
                                     Fitted(total, math.sqrt(sum(e**2 for e in errors)), estimator[reported[0][0]].source)))
            checks += [CrossCheck(f"{op[0]}.{op[1]}: demand", shape.mean_s, estimator[op]) for op, shape in reported]
            continue
        if reported and len(reported) == len(s.operations(tier)):
            value = sum(share * n * calibration.shapes[op].mean_s.value for c, share in calibration.mix.items()
                        for op, n in s.visits.get(c, {}).items() if op[0] == tier)
            error = math.sqrt(sum((share * n * (calibration.shapes[op].mean_s.std_error or 0.0)) ** 2 for c, share in calibration.mix.items()
                                  for op, n in s.visits.get(c, {}).items() if op[0] == tier))
            checks.append(CrossCheck(f"{tier}: CPU per request (mix-weighted)", primary,
                                     Fitted(value, error, "per-request CPU reports (the request's own code only)")))
        for op, shape in reported:
            checks.append(CrossCheck(f"{op[0]}.{op[1]}: demand", calibration.parameters.demands[op], shape.mean_s))
    return checks
