"""Every estimator on one set of measurements, cross-checked, into one :class:`Calibration`.

Which number the calibrated model uses:

- with ``scale_reports`` (measured in containers), demands of a tier whose every operation has
  per-request CPU reports and whose CPU was measured (its cgroup counter): the reports' means, scaled so that their mix-weighted sum is the
  tier's CPU per request from the utilisation regression (the service demand law, D = U / X, split
  in the reports' proportions). The reports time the request's own code only; the scale (1.1x for
  the monolith here) is the framework's share: HTTP parsing, the event loop, the driver. Per-class
  demands then rest on tens of thousands of reports, not on the latencies alone, from which the
  response-time estimator can split them only weakly at one load mix (it collapsed to 1e-28 s
  for some classes under load);
- with ``demands_from_reports`` and no CPU counter (a user's ``--cpu-source header:NAME``), the
  reports' means as they are;
- with ``scale_reports``, demands of a tier without reports whose CPU was measured (the database,
  the broker): the utilisation regression's CPU per visit (:func:`_demands_by_utilisation`);
- every other demand, the per-hop and per-client costs and the idle CPU: the response-time
  estimator (``response_time.py``) around the demands above; with every demand free, the same
  estimator is a cross-check;
- demand shapes (CV): the per-request CPU reports of a tier (``shape.py``); a tier without such
  reports (the database) keeps CV 1 (exponential), and the file says it is assumed;
- structure and sizes: the deployment that was run (``structure.py``).

The utilisation regression (``regression.py``) and the per-request CPU reports are the cross-checks:
for every tier the mix-weighted CPU per request from each source, and for each operation where
the source identifies it. Two figures disagree only when the difference is an effect, not noise:
more than twice their combined standard error ``sqrt(se_a² + se_b²)`` *and* more than 10% of the
model's value. Every check is reported, agreeing or not; a figure the data cannot pin down (its standard error
as large as itself, or a collapsed value of zero) neither agrees nor disagrees: "error unknown".
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
        if not (self.primary.identified and self.other.identified):
            return None  # a collapsed or unidentified figure, e.g. 1e-28 s ± 1 ms, cannot agree with anything
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
    report_scales: dict[str, Fitted] = field(default_factory=dict)  #: Tier -> container CPU over reported CPU, where demands are scaled reports.
    utilisation_tiers: set[str] = field(default_factory=set)  #: Tiers without reports whose demands are their container's CPU per visit.

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
              *, demands_from_reports: bool = False, interleaved: bool = False, scale_reports: bool = False) -> Calibration:
    """Fit the model's parameters and cross-check the estimators (see the module docstring)."""
    shapes: dict[Operation, DemandShape] = {}
    for samples in cpu_samples or []:
        for c, values in samples.by_class.items():
            op = structure.reported_operation(c) if c in structure.visits else (samples.tier, c)
            if op[0] == samples.tier and op in structure.operations(samples.tier) and values.size >= 10:
                shapes[op] = fit_shape(values, what=f"{op[0]}.{op[1]}")
    cv_values = {op: shapes[op].cv.value if op in shapes else ASSUMED_CV for op in structure.operations()}
    initial = {op: shape.mean_s.value for op, shape in shapes.items()}
    rt = fit_response_time(structure, observations, cv=cv_values, initial=initial, interleaved=interleaved)
    regressions = {}
    warnings = []
    for tier in structure.tiers:
        if sum(1 for o in observations if tier in o.tier_cpu_cores and not o.hold_out) >= 2:
            regressions[tier] = regress_tier(structure, tier, observations)
    cv = {op: shapes[op].cv if op in shapes else Fitted(ASSUMED_CV, None, "assumed exponential: no per-request CPU reports for this tier", unit="ratio")
          for op in structure.operations()}
    mix = mean_mix(observations)
    fixed, scales = _scaled_reports(structure, shapes, regressions, mix, warnings) if scale_reports else ({}, {})
    by_utilisation = _demands_by_utilisation(structure, shapes, regressions) if scale_reports else {}
    fixed.update(by_utilisation)
    if demands_from_reports:
        fixed.update({op: shape.mean_s for op, shape in shapes.items() if op[0] not in scales})
    model = fit_response_time(structure, observations, cv=cv_values, fixed=fixed, interleaved=interleaved) if fixed else rt
    parameters = ModelParameters(dict(model.demands), cv, model.hop_s, client_hop_s=model.client_hop_s, interleaved=interleaved)
    calibration = Calibration(structure, parameters, rt, regressions, shapes, [], mix, warnings, scales,
                              {tier for tier, _ in by_utilisation})
    calibration.cross_checks = _cross_checks(calibration)
    for check in calibration.cross_checks:
        if check.agrees is False:
            warnings.append(f"{check.quantity}: {check.other.source} gives {check.other.describe()}, "
                            f"{check.relative_difference:+.0%} from the model's {check.primary.describe()}")
    return calibration


MIN_REPORT_SCALE, MAX_REPORT_SCALE = 0.8, 3.0
"""Container CPU over reported CPU outside these bounds means the reports or the counters are wrong, not framework time."""


def _reported_per_request(structure: Structure, shapes: dict[Operation, DemandShape], mix: dict[str, float], tier: str) -> tuple[float, float]:
    """Mix-weighted reported CPU seconds per request at ``tier`` and its standard error."""
    terms = [(share * n * shapes[op].mean_s.value, share * n * (shapes[op].mean_s.std_error or 0.0))
             for c, share in mix.items() for op, n in structure.visits.get(c, {}).items() if op[0] == tier]
    return sum(v for v, _ in terms), math.sqrt(sum(e**2 for _, e in terms))


def _scaled_reports(structure: Structure, shapes: dict[Operation, DemandShape], regressions: dict[str, TierRegression],
                    mix: dict[str, float], warnings: list[str]) -> tuple[dict[Operation, Fitted], dict[str, Fitted]]:
    """Demands from per-request CPU reports scaled to the tier's measured CPU (see the module docstring), and the scales."""
    demands: dict[Operation, Fitted] = {}
    scales: dict[str, Fitted] = {}
    for tier in structure.tiers:
        ops = structure.operations(tier)
        regression = regressions.get(tier)
        if regression is None or not ops or not all(op in shapes for op in ops):
            continue
        reported, reported_error = _reported_per_request(structure, shapes, mix, tier)
        measured = regression.per_request
        if reported <= 0 or measured.value <= 0:
            continue
        scale = measured.value / reported
        if not MIN_REPORT_SCALE <= scale <= MAX_REPORT_SCALE:
            warnings.append(f"{tier}: its container's CPU per request ({measured.describe()}) is {scale:.2f}x what its requests report "
                            f"({reported * 1e3:.3g} ms); outside {MIN_REPORT_SCALE:g}-{MAX_REPORT_SCALE:g}x the reports are not used as its demands")
            continue
        relative = math.hypot(reported_error / reported, (measured.std_error or 0.0) / measured.value)
        scales[tier] = Fitted(scale, scale * relative, f"{measured.source} over the reports' {reported * 1e3:.3g} ms per request", unit="ratio")
        for op in ops:
            mean = shapes[op].mean_s
            value = mean.value * scale
            error = value * math.hypot((mean.std_error or 0.0) / mean.value if mean.value else 0.0, relative)
            demands[op] = Fitted(value, error, f"{mean.source} × {scale:.3g}, scaled to the container's CPU per request "
                                               f"({measured.describe()}, {measured.source})")
    return demands, scales


def _demands_by_utilisation(structure: Structure, shapes: dict[Operation, DemandShape],
                            regressions: dict[str, TierRegression]) -> dict[Operation, Fitted]:
    """Demands of the tiers without per-request reports (the database, the broker) from their measured CPU.

    The service demand law on the container's cgroup counter: the utilisation regression's CPU per
    visit, net of the idle CPU (its intercept: background writers, timers). Identified for a tier
    with one operation, or when the load levels split its operations (the regression's condition
    number); otherwise the tier is left to the response-time estimator. Without this, the
    estimator gave the monolith's PostgreSQL 49.8 µs ± 43.4 µs per query (not identified) while its
    container used 110 µs ± 19.8 µs per query, so the model's host was less busy than the machine.
    """
    demands: dict[Operation, Fitted] = {}
    for tier, regression in regressions.items():
        ops = structure.operations(tier)
        if not ops or any(op in shapes for op in ops) or not (len(ops) == 1 or regression.split_identified):
            continue
        for op in ops:
            fitted = regression.demands[op[1]]
            if fitted.value > 0 and fitted.identified:
                demands[op] = Fitted(fitted.value, fitted.std_error, f"{fitted.source}: the container's CPU per visit, "
                                                                      "net of its idle CPU (service demand law)")
    return demands


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
        if tier in calibration.utilisation_tiers:  # the regression is the model: the free response-time fit is the check
            checks += [CrossCheck(f"{op[0]}.{op[1]}: demand", calibration.parameters.demands[op], estimator[op]) for op in s.operations(tier)]
            continue
        regression = calibration.regressions.get(tier)
        if regression is not None:
            if tier not in calibration.report_scales:  # scaled reports equal the regression's total by construction
                checks.append(CrossCheck(f"{tier}: CPU per request (mix-weighted)", primary, regression.per_request))
            if regression.split_identified:
                for op, fitted in regression.demands.items():
                    checks.append(CrossCheck(f"{tier}.{op}: demand", calibration.parameters.demands[(tier, op)], fitted))
        reported = [(op, shape) for op, shape in calibration.shapes.items() if op[0] == tier]
        scaled = tier in calibration.report_scales
        if scaled or (reported and all(calibration.parameters.demands[op] is shape.mean_s for op, shape in reported)):
            # the reports (as they are, or scaled to the regression and so equal to it by
            # construction) are the model: the response-time estimator, fitted freely from the
            # latencies, is the independent check
            total = calibration.per_request_demand(tier, {op: f.value for op, f in estimator.items()})
            errors = [share * n * estimator[op].std_error for c, share in calibration.mix.items()
                      for op, n in s.visits.get(c, {}).items() if op[0] == tier]
            checks.append(CrossCheck(f"{tier}: CPU per request (mix-weighted)", primary,
                                     Fitted(total, math.sqrt(sum(e**2 for e in errors)), estimator[reported[0][0]].source)))
            checks += [CrossCheck(f"{op[0]}.{op[1]}: demand", calibration.parameters.demands[op], estimator[op]) for op in s.operations(tier)]
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
