"""The container probe measures warm and cold (image loaded from an archive) start-ups and cleans up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.deploy import images
from simulator.scenario.platform import StartupProfile
from simulator.probe.container import PROJECT

pytestmark = pytest.mark.containers

REPO = Path(__file__).resolve().parents[2]


def test_warm_and_cold_container_start_ups_become_profiles(engine, built, tmp_path):
    out = tmp_path / "startup.json"
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "probe", "startup", "--platform", "container",
                           "--repeat", "3", "--out", str(out)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    series = json.loads(out.read_text())["series"]
    warm, cold = series["container"]["summary_s"], series["container-cold"]["summary_s"]
    assert warm["total"]["n"] == cold["total"]["n"] == 3
    assert "image_pull" not in warm and cold["image_pull"]["median_s"] > 0.01  # a real load of a 24 MB layer
    assert cold["total"]["median_s"] > cold["image_pull"]["median_s"]
    for name in ("container", "container-cold"):
        profile = StartupProfile.model_validate(json.loads((tmp_path / series[name]["profile"]).read_text()))
        assert profile.kind == "container"
    assert images.exists(engine, images.PROBE_IMAGE)  # left warm
    assert engine.lines("ps", "--all", "--quiet", "--filter", f"label=archsim.project={PROJECT}") == []
    print(f"container warm {warm['total']['median_s'] * 1000:.0f} ms, cold {cold['total']['median_s'] * 1000:.0f} ms")
