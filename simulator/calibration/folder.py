"""The measurement folder: every raw measurement of a calibration, enough to rebuild it without containers.

Layout::

    DIR/measurements.json          manifest (schema archsim.calibration-measurements/1): the style,
                                   the deployment actually run (tiers: replicas, cores, CPU limits,
                                   pools; containers and their tier), the model structure, the levels
                                   and hold-out, the saturation ramp, every run and its status, warnings
    DIR/runs/<run>/                one load test: the run directory archsim loadtest wrote
                                   (summary.json, Locust's CSV files under locust/, <variant>_stats.csv)
    DIR/runs/<run>/cpu.csv         cumulative CPU seconds per container, sampled during the run:
                                   time_s (from the run's start), container, tier, cpu_s
    DIR/runs/<run>/cpu_reports.csv per-request CPU reports: tier, request class, cpu_ms
    DIR/runs/<run>/metrics/        the services' /metrics (JSON) before and after the run
    DIR/ramp/                      the saturation ramp's load tests, same layout

:func:`read` turns a folder back into a structure, observations and per-request CPU samples; the
calibration, the scenario and the report are rebuilt from that alone (``archsim calibrate --from DIR``).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArchsimError
from ..results.rundir import atomic_write, write_json
from .observations import CpuSamples, Observation, observation_from_summary
from .structure import Structure, structure_from_json, structure_to_json

SCHEMA = "archsim.calibration-measurements/1"
MANIFEST = "measurements.json"
RUNS = "runs"
CPU_SERIES = "cpu.csv"
CPU_REPORTS = "cpu_reports.csv"


@dataclass
class RunRecord:
    """One load test of the calibration, as the manifest lists it."""

    id: str
    level: str
    repetition: int
    target_rate_per_s: float
    warmup_s: float
    duration_s: float
    hold_out: bool = False
    status: str = "planned"  #: planned, ok, error, interrupted
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Manifest:
    style: str
    structure: Structure
    source: str  #: containers, synthetic, or user-system
    mix: dict[str, float]
    levels: dict[str, float] = field(default_factory=dict)  #: Level label -> target rate.
    hold_out: list[str] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)
    deployment: dict[str, Any] = field(default_factory=dict)  #: Containers, their tier, limits; engine; host.
    saturation: dict[str, Any] = field(default_factory=dict)  #: measured_per_s and the ramp's steps.
    warnings: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "style": self.style, "source": self.source, "mix": self.mix, "levels": self.levels,
            "hold_out": self.hold_out, "structure": structure_to_json(self.structure), "deployment": self.deployment,
            "saturation": self.saturation, "runs": [r.to_json() for r in self.runs], "warnings": self.warnings,
            "extras": self.extras,
        }


def write_manifest(folder: Path, manifest: Manifest) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / MANIFEST, manifest.to_json())


def run_dir(folder: Path, run: RunRecord) -> Path:
    return folder / RUNS / run.id


def write_cpu_series(path: Path, rows: list[tuple[float, str, str, float]]) -> None:
    """``(time_s, container, tier, cumulative cpu_s)`` rows."""
    lines = ["time_s,container,tier,cpu_s", *(f"{t:.3f},{c},{tier},{cpu:.6f}" for t, c, tier, cpu in rows)]
    atomic_write(path, "\n".join(lines) + "\n")


def write_cpu_reports(path: Path, samples: list[CpuSamples]) -> None:
    lines = ["tier,request_class,cpu_ms"]
    for tier_samples in samples:
        for c, values in tier_samples.by_class.items():
            lines += [f"{tier_samples.tier},{c},{v * 1e3:.4f}" for v in values]
    atomic_write(path, "\n".join(lines) + "\n")


@dataclass
class Measurements:
    manifest: Manifest
    observations: list[Observation]
    cpu_samples: list[CpuSamples]
    skipped: list[str]  #: Runs listed but not usable (failed, interrupted, missing files), with why.


def tier_cores(path: Path, start_s: float, end_s: float) -> dict[str, float]:
    """Average cores busy per tier over [start_s, end_s] from cumulative per-container CPU samples.

    Each container's counter is interpolated linearly at both ends of the window.
    """
    series: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            series.setdefault((row["container"], row["tier"]), []).append((float(row["time_s"]), float(row["cpu_s"])))
    out: dict[str, float] = {}
    for (_, tier), points in series.items():
        points.sort()
        times = np.asarray([p[0] for p in points])
        values = np.asarray([p[1] for p in points])
        if len(points) < 2 or times[0] > start_s + 1.0 or times[-1] < end_s - 1.0:
            continue  # the counter does not cover the window
        used = float(np.interp(end_s, times, values) - np.interp(start_s, times, values))
        out[tier] = out.get(tier, 0.0) + used / (end_s - start_s)
    return out


def read_cpu_reports(path: Path) -> dict[str, dict[str, list[float]]]:
    found: dict[str, dict[str, list[float]]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found.setdefault(row["tier"], {}).setdefault(row["request_class"], []).append(float(row["cpu_ms"]) / 1e3)
    return found


def read(folder: Path) -> Measurements:
    """A measurement folder as structure, observations and CPU samples; one clear line if it is not one."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ArchsimError(f"--from {folder}: not a calibration measurement folder (no {MANIFEST})")
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ArchsimError(f"{manifest_path}: not valid JSON ({exc})") from None
    if data.get("schema") != SCHEMA:
        raise ArchsimError(f"{manifest_path}: schema is {data.get('schema')!r}, expected {SCHEMA!r}")
    try:
        structure = structure_from_json(data["structure"])
        runs = [RunRecord(**r) for r in data["runs"]]
        manifest = Manifest(data["style"], structure, data["source"], data["mix"], data.get("levels", {}), data.get("hold_out", []),
                            runs, data.get("deployment", {}), data.get("saturation", {}), data.get("warnings", []), data.get("extras", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchsimError(f"{manifest_path}: malformed manifest ({exc.__class__.__name__}: {exc})") from None
    observations, skipped = [], []
    samples: dict[str, CpuSamples] = {}
    for run in runs:
        where = run_dir(folder, run)
        summary_path = where / "summary.json"
        if run.status != "ok" or not summary_path.is_file():
            skipped.append(f"{run.id}: {run.status}{' - ' + run.error if run.error else ''}")
            continue
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if not summary.get("variants"):
            skipped.append(f"{run.id}: no measured variant in summary.json")
            continue
        obs = observation_from_summary(summary, structure, level=run.level, repetition=run.repetition,
                                       target_rate_per_s=run.target_rate_per_s, hold_out=run.hold_out)
        cpu = tier_cores(where / CPU_SERIES, run.warmup_s, run.duration_s) if (where / CPU_SERIES).is_file() else {}
        observations.append(Observation(obs.level, obs.repetition, obs.target_rate_per_s, obs.measured_s, obs.classes, cpu, obs.overall, obs.hold_out))
        if (where / CPU_REPORTS).is_file() and not run.hold_out:
            for tier, by_class in read_cpu_reports(where / CPU_REPORTS).items():
                for c, values in by_class.items():
                    samples.setdefault(tier, CpuSamples(tier)).add(c, np.asarray(values))
    return Measurements(manifest, observations, list(samples.values()), skipped)
