"""``archsim loadtest`` against the real monolith in containers: a measured run the charts accept.

``deploy up monolith``, 15 s of the baseline scenario's open load reduced to 50 requests/s, then
``deploy down`` whatever happened; a report of the measured run beside a simulated one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.deploy import lifecycle

pytestmark = pytest.mark.containers

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "scenarios" / "styles-baseline.yaml"


def test_monolith_measured_run_is_charted(engine, built, project, tmp_path):
    url = lifecycle.up(engine, "monolith", replicas=1, project=project, timeout_s=120)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "simulator.loadtest", str(SCENARIO), "--host", url, "--variant", "monolith",
             "--duration", "15s", "--set", "workload.rate=50/s", "--set", "warmup=3s", "--out", str(tmp_path / "measured")],
            capture_output=True, text=True, timeout=90, cwd=REPO,
        )
    finally:
        lifecycle.down(engine, project)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "measured" / "summary.json").read_text())
    assert (summary["source"], summary["status"]) == ("measured", "ok")
    block = summary["variants"]["monolith"]
    overall, extras = block["overall"], block["extras"]
    assert overall["error_rate"]["mean"] <= 0.01, block["failures"]
    assert all(block["classes"][name]["requests"]["mean"] > 0 for name in ("browse", "add_to_cart", "place_order", "order_status"))
    assert extras["achieved_rate_per_s"]["mean"] == pytest.approx(50, rel=0.25)
    assert (tmp_path / "measured" / "report.html").exists()  # drawn by the command (--charts is the default)
    print(f"monolith, open 50/s: achieved {extras['achieved_rate_per_s']['mean']:.1f}/s, "
          f"p50 {overall['latency_p50_s']['mean'] * 1000:.1f} ms, p95 {overall['latency_p95_s']['mean'] * 1000:.1f} ms, "
          f"p99 {overall['latency_p99_s']['mean'] * 1000:.1f} ms, late {extras['pacing']['late_share']['mean']:.1%}")
    assert lifecycle.running(engine, project) == []
