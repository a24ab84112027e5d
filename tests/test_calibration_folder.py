"""A calibration is rebuilt from a stored measurement folder alone, through the real command.

The folder is written by the test itself: the known two-tier shop model simulated by archsim at
20/50/80% of saturation plus a 65% hold-out, two repetitions each, with per-tier CPU counters and
per-request CPU reports, in exactly the layout a container calibration writes. Then
``archsim calibrate --from DIR`` (a subprocess, as a user runs it) must write a calibrated scenario
that validates and simulates at a rate of the user's choosing, and a report that states every
verdict. The model is the truth here, so every target must be met; a miss is a fault.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator.calibration import folder as folders
from simulator.calibration.synthetic import write_folder

sys.path.insert(0, str(Path(__file__).parent))
from test_calibration_fitting import MIX, saturation_per_s, structure, truth  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def archsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("measurements")
    sat = saturation_per_s()
    write_folder(where, structure(), truth(), MIX, {f"{p}%": p / 100 * sat for p in (20, 50, 80)},
                 hold_out={"hold-out 65%": 0.65 * sat}, repetitions=2, duration_s=40.0, reports_per_class=400)
    return where


def test_the_folder_keeps_every_raw_measurement(stored):
    manifest = json.loads((stored / folders.MANIFEST).read_text())
    assert manifest["schema"] == folders.SCHEMA
    assert len(manifest["runs"]) == 8 and all(r["status"] == "ok" for r in manifest["runs"])
    assert manifest["structure"]["tiers"]["db"]["concurrency"] == 8
    for run in manifest["runs"]:
        where = stored / folders.RUNS / run["id"]
        assert (where / "summary.json").is_file() and (where / folders.CPU_SERIES).is_file() and (where / folders.CPU_REPORTS).is_file()
    measured = folders.read(stored)
    assert len(measured.observations) == 8 and sum(o.hold_out for o in measured.observations) == 2
    assert {s.tier for s in measured.cpu_samples} == {"monolith"}


def test_calibrate_from_a_stored_folder_writes_a_scenario_and_a_report_with_every_verdict(stored, tmp_path):
    scenario = tmp_path / "calibrated" / "monolith.yaml"
    done = archsim("calibrate", "--from", str(stored), "--calibrated", str(scenario), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert scenario.is_file()
    report = (stored / "report" / "report.md").read_text()
    for target in ("throughput within 3%", "mean latency within 10%", "p95 latency within 20%", "saturation throughput within 10%"):
        assert f"{target}: met" in report, report[:800]
    assert "hold-out 65% (hold-out)" in report and "What the model lacks" in report
    assert (stored / "report" / "report.html").stat().st_size > 10_000  # charts embedded
    assert (stored / "report" / "charts" / "predicted-vs-measured.svg").is_file()
    data = json.loads((stored / "report" / "calibration.json").read_text())
    browse = data["parameters"]["demands"]["monolith.browse"]
    assert abs(browse["value"] / 1.0e-3 - 1) < 0.05 and browse["std_error"] > 0

    text = scenario.read_text()
    document = yaml.safe_load(text)
    # every fitted number carries its source and error in a comment
    assert text.count("# mean:") == 5 and text.count("# cv:") == 5 and "one-way, every hop" in text
    assert "response-time estimator over 6 runs" in text and "per-request CPU reports" in text
    assert document["variants"][0]["name"] == "monolith"
    assert archsim("validate", str(scenario), cwd=tmp_path).returncode == 0
    run = archsim("run", str(scenario), "--set", "workload.rate=100/s", "--replications", "1", "--no-charts", "--json", "--out", str(tmp_path / "sim"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    throughput = json.loads(run.stdout)["variants"]["monolith"]["overall"]["throughput_per_s"]["mean"]
    assert 90 < throughput < 110


@pytest.mark.parametrize("setup, expected", [
    (lambda d: None, "no such folder"),
    (lambda d: d.mkdir(), "not a calibration measurement folder"),
    (lambda d: (d.mkdir(), (d / folders.MANIFEST).write_text("{not json")), "not valid JSON"),
    (lambda d: (d.mkdir(), (d / folders.MANIFEST).write_text(json.dumps({"schema": "other"}))), "expected 'archsim.calibration-measurements/1'"),
])
def test_a_folder_that_is_not_a_measurement_folder_is_one_line_and_exit_code_2(tmp_path, setup, expected):
    target = tmp_path / "m"
    setup(target)
    done = archsim("calibrate", "--from", str(target), cwd=tmp_path)
    assert done.returncode == 2
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
