"""Predicted vs measured: the calibrated scenario simulated at every measured level, hold-out included.

For each level the simulator runs the calibrated scenario at the rate and class mix the load test
actually achieved there (the mean over its repetitions: completions per second, which equal
arrivals while nothing is lost), with as many replications as the level had repetitions and the
same measured window. Then, side by side: throughput, mean, p50, p95 and p99 latency, each with
its relative error, and the saturation throughput (the model's bottleneck bound against the
ramp's measured maximum).

Targets (issue 12), judged only at levels between 20% and 80% of saturation, hold-out included:
mean within 10%, p95 within 20%, throughput within 3%; saturation throughput within 10%. Every
verdict is shown, met or missed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..results.rundir import read_summary
from ..runner import run_scenario
from ..scenario import load_scenario
from .observations import Observation
from .writer import rounded_mix

FIGURES = ("throughput_per_s", "latency_mean_s", "latency_p50_s", "latency_p95_s", "latency_p99_s")
TARGETS = {"throughput_per_s": 0.03, "latency_mean_s": 0.10, "latency_p95_s": 0.20}  #: Figure -> largest relative error allowed.
SATURATION_TARGET = 0.10
JUDGED_RANGE = (0.20, 0.80)  #: Levels (fractions of saturation) at which the targets apply.


@dataclass
class LevelComparison:
    level: str
    hold_out: bool
    fraction_of_saturation: float | None
    rate_per_s: float
    mix: dict[str, float]
    measured: dict[str, float]
    predicted: dict[str, float]
    repetitions: int

    def error(self, figure: str) -> float | None:
        m, p = self.measured.get(figure), self.predicted.get(figure)
        if m is None or p is None or not m:
            return None
        return (p - m) / m

    @property
    def judged(self) -> bool:
        f = self.fraction_of_saturation
        return f is not None and JUDGED_RANGE[0] - 0.005 <= f <= JUDGED_RANGE[1] + 0.005


@dataclass(frozen=True)
class Verdict:
    target: str
    limit: float
    worst_error: float | None
    where: str
    met: bool | None  #: None when nothing could be judged.

    def text(self) -> str:
        if self.met is None:
            return f"{self.target}: not judged ({self.where})"
        return f"{self.target} within {self.limit:.0%}: {'met' if self.met else 'MISSED'} (worst {self.worst_error:+.1%} at {self.where})"


@dataclass
class Validation:
    levels: list[LevelComparison]
    saturation_measured_per_s: float | None
    saturation_predicted_per_s: float
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def saturation_error(self) -> float | None:
        m = self.saturation_measured_per_s
        return None if not m else (self.saturation_predicted_per_s - m) / m


def fraction(level: str) -> float | None:
    """``'50%'`` or ``'hold-out 65%'`` -> 0.5 / 0.65."""
    found = re.search(r"(\d+(?:\.\d+)?)\s*%", level)
    return float(found.group(1)) / 100 if found else None


def _measured(observations: list[Observation]) -> dict[str, float]:
    out = {"throughput_per_s": float(np.mean([o.throughput_per_s for o in observations]))}
    for figure in FIGURES[1:]:
        values = [getattr(o.overall, figure) for o in observations if o.overall is not None and getattr(o.overall, figure) is not None]
        if values:
            out[figure] = float(np.mean(values))
    return out


def validate(scenario_file: Path, observations: list[Observation], work_dir: Path, *, saturation_measured_per_s: float | None,
             saturation_predicted_per_s: float, seed: int = 101) -> Validation:
    """Simulate the calibrated scenario at every measured level and judge the targets (module docstring)."""
    by_level: dict[str, list[Observation]] = {}
    for obs in observations:
        by_level.setdefault(obs.level, []).append(obs)
    levels = []
    for index, (level, runs) in enumerate(by_level.items()):
        rate = float(np.mean([o.throughput_per_s for o in runs]))
        mix_classes = sorted({c for o in runs for c in o.classes})
        mix = rounded_mix({c: float(np.mean([o.mix().get(c, 0.0) for o in runs])) for c in mix_classes})
        measured_s = float(np.mean([o.measured_s for o in runs]))
        overrides = [f"workload.rate={rate:.6g}/s", f"workload.mix={json.dumps(mix)}",
                     f"duration={measured_s + 5:.6g}s", "warmup=5s"]
        loaded = load_scenario(scenario_file, overrides, seed=seed + index, replications=max(len(runs), 2))
        out = work_dir / f"level-{index + 1}"
        run_scenario(loaded, out)
        variant = next(iter(read_summary(out)["variants"].values()))
        predicted = {f: variant["overall"][f]["mean"] for f in FIGURES if variant["overall"].get(f, {}).get("mean") is not None}
        levels.append(LevelComparison(level, any(o.hold_out for o in runs), fraction(level), rate, mix, _measured(runs), predicted, len(runs)))
    result = Validation(levels, saturation_measured_per_s, saturation_predicted_per_s)
    result.verdicts = verdicts(result)
    return result


def verdicts(validation: Validation) -> list[Verdict]:
    out = []
    judged = [lv for lv in validation.levels if lv.judged]
    names = {"throughput_per_s": "throughput", "latency_mean_s": "mean latency", "latency_p95_s": "p95 latency"}
    for figure, limit in TARGETS.items():
        errors = [(lv.error(figure), lv.level) for lv in judged if lv.error(figure) is not None]
        if not errors:
            out.append(Verdict(names[figure], limit, None, "no level between 20% and 80% of saturation", None))
            continue
        worst, where = max(errors, key=lambda e: abs(e[0]))
        out.append(Verdict(names[figure], limit, worst, where, abs(worst) <= limit))
    error = validation.saturation_error
    if error is None or not math.isfinite(error):
        out.append(Verdict("saturation throughput", SATURATION_TARGET, None, "no measured saturation", None))
    else:
        out.append(Verdict("saturation throughput", SATURATION_TARGET, error, "the ramp", abs(error) <= SATURATION_TARGET))
    return out
