"""End to end on real containers: ``archsim calibrate monolith`` with short durations produces its report.

Deploys the reference monolith (its own project, a free port), ramps to saturation with 6 s steps,
runs 2 x 12 s load tests at 20/50/80% plus a 65% hold-out, fits, writes the calibrated scenario and
the validation report, and removes its containers. The test asserts the artefacts and their
content (every verdict stated, the fitted demands positive with standard errors, nothing left
running), not that the targets are met: on a shared 2-core machine they are not (see
docs/calibration.md). Budget: about 4 minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.calibration import folder as folders

pytestmark = pytest.mark.containers
REPO = Path(__file__).resolve().parents[2]


def test_calibrate_monolith_end_to_end(engine, built, tmp_path):
    out, scenario = tmp_path / "measurements", tmp_path / "monolith.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "calibrate", "monolith", "--duration", "12s", "--warmup", "3s",
         "--ramp-step", "6s", "--out", str(out), "--calibrated", str(scenario)],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=420,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads((out / folders.MANIFEST).read_text())
    assert manifest["saturation"]["measured_per_s"] > 50
    assert len(manifest["runs"]) == 8 and all(r["status"] == "ok" for r in manifest["runs"])
    run = out / folders.RUNS / manifest["runs"][0]["id"]
    assert (run / folders.CPU_SERIES).stat().st_size > 100 and (run / folders.CPU_REPORTS).stat().st_size > 100
    report = (out / "report" / "report.md").read_text()
    for target in ("throughput within 3%", "mean latency within 10%", "p95 latency within 20%", "saturation throughput within 10%"):
        assert target in report
    assert (out / "report" / "report.html").is_file()
    fitted = json.loads((out / "report" / "calibration.json").read_text())["parameters"]["demands"]
    assert all(d["value"] > 0 for d in fitted.values()) and "db.query" in fitted
    assert subprocess.run([sys.executable, "-m", "simulator.cli", "validate", str(scenario)], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}).returncode == 0
    left = engine.lines("ps", "--all", "--quiet", "--filter", f"label=archsim.project={manifest['deployment']['project']}")
    assert left == []
