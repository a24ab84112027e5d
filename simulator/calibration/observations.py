"""What one load-test run measured, in the form the estimators read.

An :class:`Observation` is one run at one load level and repetition: the measured window's
length, per request class the throughput and latency figures of successful requests, and per tier
(the application deployable, the database, the broker) the CPU it used, as cores busy on average
(CPU-seconds per second, from cgroup counters). Per-request CPU reports (the services'
``X-CPU-Time-Ms``) are kept apart as :class:`CpuSamples`, since they come per request, not per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .structure import Structure

LATENCY_FIGURES = ("latency_mean_s", "latency_p50_s", "latency_p95_s", "latency_p99_s")  #: Per-class figures kept.


@dataclass(frozen=True)
class ClassFigures:
    """One request class in one run: successful completions per second and their latency."""

    throughput_per_s: float
    latency_mean_s: float | None
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    latency_p99_s: float | None = None
    requests: int = 0  #: Successful requests in the measured window (weights the response-time fit).
    error_rate: float = 0.0


@dataclass(frozen=True)
class Observation:
    """One measured run: a load level, a repetition, and what it measured."""

    level: str  #: e.g. ``50%`` of saturation, or ``hold-out 65%``.
    repetition: int
    target_rate_per_s: float
    measured_s: float
    classes: dict[str, ClassFigures]
    tier_cpu_cores: dict[str, float] = field(default_factory=dict)  #: Tier -> CPU-seconds per second.
    overall: ClassFigures | None = None
    hold_out: bool = False  #: Not used for fitting; only for validation.

    @property
    def throughput_per_s(self) -> float:
        return sum(c.throughput_per_s for c in self.classes.values())

    def mix(self) -> dict[str, float]:
        """Measured share of each class among completions."""
        total = self.throughput_per_s or 1.0
        return {name: c.throughput_per_s / total for name, c in self.classes.items()}


@dataclass
class CpuSamples:
    """Per-request CPU reports of one tier, per request class (seconds)."""

    tier: str
    by_class: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, request_class: str, values_s: np.ndarray) -> None:
        old = self.by_class.get(request_class)
        joined = values_s if old is None else np.concatenate([old, values_s])
        self.by_class[request_class] = np.asarray(joined, dtype=float)


def observation_from_summary(summary: dict, structure: Structure, *, level: str, repetition: int,
                             target_rate_per_s: float, hold_out: bool = False) -> Observation:
    """One simulated (or measured) run directory's summary as an observation."""
    variant = next(iter(summary["variants"].values()))

    def mean(block: dict, key: str) -> float | None:
        item = block.get(key)
        return None if not isinstance(item, dict) else item.get("mean")

    classes = {}
    for name, block in variant["classes"].items():
        classes[name] = ClassFigures(
            throughput_per_s=mean(block, "throughput_per_s") or 0.0,
            latency_mean_s=mean(block, "latency_mean_s"), latency_p50_s=mean(block, "latency_p50_s"),
            latency_p95_s=mean(block, "latency_p95_s"), latency_p99_s=mean(block, "latency_p99_s"),
            requests=int(mean(block, "successes") or 0), error_rate=mean(block, "error_rate") or 0.0,
        )
    o = variant["overall"]
    overall = ClassFigures(mean(o, "throughput_per_s") or 0.0, mean(o, "latency_mean_s"), mean(o, "latency_p50_s"),
                           mean(o, "latency_p95_s"), mean(o, "latency_p99_s"), int(mean(o, "successes") or 0),
                           mean(o, "error_rate") or 0.0)
    cpu = {}
    for tier_name, tier in structure.tiers.items():
        block = variant.get("services", {}).get(tier_name)
        if block:
            cpu[tier_name] = (mean(block, "utilisation") or 0.0) * tier.cores * (mean(block, "instances") or tier.instances)
    return Observation(level, repetition, target_rate_per_s, float(variant.get("measured_s") or summary["duration_s"] - summary["warmup_s"]),
                       classes, cpu, overall, hold_out)
