"""Measurements produced by the simulator itself, from a model with known parameters.

The fitting is tested the only honest way short of real containers: write a calibrated scenario
with known demands, shapes and hop cost, run it in archsim at several load levels and seeds, and
read each run back as an :class:`~.observations.Observation` (per-class throughput and latency,
per-tier busy cores = utilisation × cores × instances). Per-request CPU reports are drawn with the
engine's own distribution samplers from the known demand distributions, as a service would report
them. An estimator that recovers the known numbers from these runs is doing its job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..distributions import Deterministic, Gamma
from ..results.rundir import read_summary
from ..runner import run_scenario
from ..scenario import load_scenario
from .observations import ClassFigures, CpuSamples, Observation
from .parameters import ModelParameters
from .structure import Structure
from .writer import ScenarioSettings, render, write


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


def simulate_levels(structure: Structure, truth: ModelParameters, mix: dict[str, float], rates_per_s: dict[str, float],
                    folder: Path, *, repetitions: int = 2, duration_s: float = 60.0, warmup_s: float = 5.0,
                    hold_out: set[str] = frozenset()) -> list[Observation]:
    """Run the known model at each level (``rates_per_s``: level label -> rate), ``repetitions`` seeds each."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = ScenarioSettings(name=f"synthetic-{structure.style}", rate_per_s=1.0, mix=mix, duration_s=duration_s,
                                warmup_s=warmup_s, replications=1, header=("Known parameters: the synthetic truth.",))
    scenario_file = write(folder / "truth.yaml", render(structure, truth, settings))
    observations = []
    for index, (level, rate) in enumerate(rates_per_s.items()):
        for repetition in range(1, repetitions + 1):
            loaded = load_scenario(scenario_file, [f"workload.rate={rate}/s"], seed=1000 * index + repetition)
            run_dir = folder / f"{level.replace('%', 'pct').replace(' ', '-')}-rep{repetition}"
            run_scenario(loaded, run_dir)
            observations.append(observation_from_summary(read_summary(run_dir), structure, level=level, repetition=repetition,
                                                         target_rate_per_s=rate, hold_out=level in hold_out))
    return observations


def cpu_reports(structure: Structure, truth: ModelParameters, requests: int, seed: int = 7) -> CpuSamples:
    """Per-request CPU reports of the entry tier, drawn with the engine's samplers from the known demands."""
    samples = CpuSamples(structure.entry_tier)
    rng = np.random.default_rng(seed)
    for c in structure.classes:
        key = (structure.entry_tier, c)
        mean, cv = truth.demands[key].value, truth.cv[key].value
        dist = Deterministic(value=mean) if cv == 0 else Gamma(mean=mean, cv=cv)
        sampler = dist.sampler(rng)
        samples.add(c, np.asarray([sampler() for _ in range(requests)]))
    return samples
