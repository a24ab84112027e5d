"""Measurements produced by the simulator itself, from a model with known parameters.

The fitting is tested the only honest way short of real containers: write a calibrated scenario
with known demands, shapes and hop cost, run it in archsim at several load levels and seeds, and
keep each run as a measured run would be kept (:mod:`.folder`): the run directory, per-tier CPU
(utilisation × cores × instances, as cumulative counters at the warm-up's end and the run's end)
and per-request CPU reports drawn with the engine's own samplers from the known demand
distributions, as a service would report them. An estimator that recovers the known numbers from
these runs is doing its job, and a report rebuilt from such a folder exercises the whole path that
real measurements take.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..distributions import Deterministic, Gamma
from ..results.rundir import read_summary
from ..runner import run_scenario
from ..scenario import load_scenario
from . import folder as folders
from .observations import CpuSamples, Observation, observation_from_summary
from .parameters import ModelParameters
from .structure import Structure
from .writer import ScenarioSettings, render, write

SATURATION_PROBE = 1.5  #: The "measured" saturation is the throughput reached at this multiple of the bottleneck bound.


def _truth_file(structure: Structure, truth: ModelParameters, mix: dict[str, float], target: Path, duration_s: float, warmup_s: float) -> Path:
    settings = ScenarioSettings(name=f"synthetic-{structure.style}", rate_per_s=1.0, mix=mix, duration_s=duration_s,
                                warmup_s=warmup_s, replications=1, header=("Known parameters: the synthetic truth.",))
    return write(target, render(structure, truth, settings))


def _simulate(scenario_file: Path, rate_per_s: float, seed: int, out: Path) -> dict:
    loaded = load_scenario(scenario_file, [f"workload.rate={rate_per_s:.6g}/s"], seed=seed)
    run_scenario(loaded, out)
    return read_summary(out)


def simulate_levels(structure: Structure, truth: ModelParameters, mix: dict[str, float], rates_per_s: dict[str, float],
                    folder: Path, *, repetitions: int = 2, duration_s: float = 60.0, warmup_s: float = 5.0,
                    hold_out: set[str] = frozenset()) -> list[Observation]:
    """Run the known model at each level (label -> rate), ``repetitions`` seeds each; return the observations."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario_file = _truth_file(structure, truth, mix, folder / "truth.yaml", duration_s, warmup_s)
    observations = []
    for index, (level, rate) in enumerate(rates_per_s.items()):
        for repetition in range(1, repetitions + 1):
            out = folder / f"{_slug(level)}-rep{repetition}"
            summary = _simulate(scenario_file, rate, 1000 * index + repetition, out)
            observations.append(observation_from_summary(summary, structure, level=level, repetition=repetition,
                                                         target_rate_per_s=rate, hold_out=level in hold_out))
    return observations


def _slug(level: str) -> str:
    return level.replace("%", "pct").replace(" ", "-")


def write_folder(folder: Path, structure: Structure, truth: ModelParameters, mix: dict[str, float], levels: dict[str, float],
                 *, hold_out: dict[str, float] | None = None, repetitions: int = 2, duration_s: float = 60.0,
                 warmup_s: float = 5.0, reports_per_class: int = 2000) -> folders.Manifest:
    """A complete measurement folder made by simulating the known model (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario_file = _truth_file(structure, truth, mix, folder / "truth.yaml", duration_s, warmup_s)
    bound = 1.0 / max(sum(share * n * truth.demands[op].value for c, share in mix.items() for op, n in structure.visits[c].items() if op[0] == name)
                      / tier.servers for name, tier in structure.tiers.items())
    probe = _simulate(scenario_file, SATURATION_PROBE * bound, 999, folder / "ramp" / "probe")
    saturation = next(iter(probe["variants"].values()))["overall"]["throughput_per_s"]["mean"]
    manifest = folders.Manifest(structure.style, structure, "synthetic", dict(mix),
                                levels={**levels, **(hold_out or {})}, hold_out=list(hold_out or {}),
                                saturation={"measured_per_s": saturation, "method": f"simulated at {SATURATION_PROBE}x the bottleneck bound"},
                                deployment={"tiers": {n: {"instances": t.instances, "cores": t.cores, "concurrency": t.concurrency, "cpu_limit": t.cpu_limit} for n, t in structure.tiers.items()}},
                                extras={"truth": truth.to_json()})
    rng_seed = 0
    for index, (level, rate) in enumerate({**levels, **(hold_out or {})}.items()):
        for repetition in range(1, repetitions + 1):
            run = folders.RunRecord(f"{_slug(level)}-rep{repetition}", level, repetition, rate, warmup_s, duration_s,
                                    hold_out=level in (hold_out or {}))
            where = folders.run_dir(folder, run)
            summary = _simulate(scenario_file, rate, 1000 * index + repetition, where)
            variant = next(iter(summary["variants"].values()))
            rows = []
            for name, tier in structure.tiers.items():
                busy = variant["services"][name]["utilisation"]["mean"] * tier.cores * tier.instances
                rows += [(warmup_s, f"{name}-1", name, 0.0), (duration_s, f"{name}-1", name, busy * (duration_s - warmup_s))]
            folders.write_cpu_series(where / folders.CPU_SERIES, rows)
            rng_seed += 1
            samples = cpu_reports(structure, truth, reports_per_class, seed=rng_seed)
            folders.write_cpu_reports(where / folders.CPU_REPORTS, samples)
            run.status = "ok"
            manifest.runs.append(run)
            folders.write_manifest(folder, manifest)
    return manifest


def cpu_reports(structure: Structure, truth: ModelParameters, requests: int, seed: int = 7) -> list[CpuSamples]:
    """Per-request CPU reports of each class's reported operation (the entry tier's, or the deployable
    behind a gateway), drawn with the engine's samplers from the known demands; one set per tier."""
    by_tier: dict[str, CpuSamples] = {}
    rng = np.random.default_rng(seed)
    for c in structure.classes:
        key = structure.reported_operation(c)
        mean, cv = truth.demands[key].value, truth.cv[key].value
        dist = Deterministic(value=mean) if cv == 0 else Gamma(mean=mean, cv=cv)
        sampler = dist.sampler(rng)
        by_tier.setdefault(key[0], CpuSamples(key[0])).add(c, np.asarray([sampler() for _ in range(requests)]))
    return list(by_tier.values())
