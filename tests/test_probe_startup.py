"""``archsim probe startup``: phases add up, profiles are what the platform models read, and the
process and microVM probes measure real start-ups (the container probe: tests/containers/)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.scenario.platform import StartupProfile
from simulator.probe import microvm
from simulator.probe.phases import StartUp, stamps
from simulator.probe.profile import Series

REPO = Path(__file__).resolve().parents[1]


def startup(**moments: float) -> StartUp:
    run = StartUp()
    for name, at_s in moments.items():
        run.mark(name, at_s)
    return run


def test_phases_are_differences_of_consecutive_moments_and_add_up_to_the_total():
    phases = startup(asked=100.0, pulled=100.5, created=100.6, started=100.9, listening=101.0, answered=101.02).phases_s()
    assert phases == pytest.approx({"image_pull": 0.5, "create": 0.1, "start": 0.3, "app_init": 0.1, "readiness": 0.02,
                                    "runtime": 0.4, "total": 1.02})
    assert sum(phases[p] for p in ("image_pull", "create", "start", "app_init", "readiness")) == pytest.approx(phases["total"])


def test_a_process_that_stamps_before_popen_returns_has_no_negative_phase():
    phases = startup(asked=0.0, created=0.010, started=0.008, listening=0.030, answered=0.031).phases_s()
    assert phases["start"] == 0.0 and phases["app_init"] == pytest.approx(0.020)
    assert phases["create"] + phases["start"] + phases["app_init"] + phases["readiness"] == pytest.approx(phases["total"])


def test_an_incomplete_start_up_says_what_is_missing():
    with pytest.raises(ValueError, match="no listening, answered"):
        startup(asked=0.0, created=0.1, started=0.2).phases_s()


def test_responder_stamps_are_parsed_and_other_lines_ignored():
    assert stamps(["noise", "archsim-probe: started 12.5", "archsim-probe: listening 12.75", "archsim-probe: bogus 1"]) == \
        {"started": 12.5, "listening": 12.75}


def test_a_profile_is_accepted_by_the_platform_models_and_leaves_out_unmeasured_phases():
    warm = Series("container", "container", "warm", runs=[startup(asked=0, created=0.1, started=0.3, listening=0.4, answered=0.41)])
    cold = Series("container-cold", "container", "cold",
                  runs=[startup(asked=0, pulled=0.25, created=0.3, started=0.5, listening=0.6, answered=0.62)])
    warm_profile = StartupProfile.model_validate(warm.profile("test"))
    cold_profile = StartupProfile.model_validate(cold.profile("test"))
    assert set(warm_profile.phases) == {"runtime", "app_init", "readiness"}  # pulls stay the scenario's model
    assert cold_profile.phases["image_pull"] == [0.25] and cold_profile.phases["runtime"] == pytest.approx([0.25])


def run_probe(tmp_path: Path, platform: str, repeat: int, timeout_s: float) -> dict:
    out = tmp_path / "startup.json"
    done = subprocess.run([sys.executable, "-m", "simulator.cli", "probe", "startup", "--platform", platform,
                           "--repeat", str(repeat), "--out", str(out)],
                          capture_output=True, text=True, timeout=timeout_s, cwd=REPO)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text())


def test_the_process_probe_measures_real_start_ups(tmp_path):
    report = run_probe(tmp_path, "process", repeat=5, timeout_s=60)
    series = report["series"]["process"]
    summary = series["summary_s"]
    assert summary["total"]["n"] == 5 and series["failures"] == []
    assert 0.005 < summary["total"]["median_s"] < 2.0  # a Python process answers in tens of milliseconds
    assert summary["start"]["median_s"] > 0.003  # the interpreter's own start is visible
    profile = StartupProfile.model_validate(json.loads((tmp_path / series["profile"]).read_text()))
    assert profile.kind == "process" and len(profile.phases["runtime"]) == 5
    print(f"process: median {summary['total']['median_s'] * 1000:.0f} ms")


def test_the_microvm_probe_boots_qemu_and_says_which_accelerator(tmp_path):
    if not shutil.which("qemu-system-x86_64") or not list((REPO / "loadtests" / "build" / "vm").glob("vmlinuz-*")):
        pytest.skip("no QEMU or kernel: sudo bash loadtests/ci/setup-vm.sh")
    report = run_probe(tmp_path, "microvm", repeat=2, timeout_s=300)
    series = report["series"]["microvm"]
    assert series["summary_s"]["total"]["n"] == 2
    assert series["notes"]["accelerator"] in ("kvm", "tcg") and series["notes"]["accelerator_reason"]
    assert series["summary_s"]["start"]["median_s"] > 0.05  # a kernel boots: never instant
    StartupProfile.model_validate(json.loads((tmp_path / series["profile"]).read_text()))
    assert subprocess.run(["pgrep", "-f", str(microvm.vm_dir())], capture_output=True).stdout == b""  # no VM left
    print(f"microvm ({series['notes']['accelerator']}): median {series['summary_s']['total']['median_s']:.2f} s")


def test_the_shipped_scenario_runs_measured_profiles_beside_the_defaults():
    from simulator.scenario.load import load_scenario

    loaded = load_scenario(REPO / "scenarios" / "startup-measured.yaml")
    profiles = {v.name: v.scenario.services["api"].platform.profile for v in loaded.variants}
    assert {name for name, profile in profiles.items() if profile is None} == {"process", "container", "microvm"}
    measured = {name: profile for name, profile in profiles.items() if profile is not None}
    assert set(measured) == {"process-measured", "container-measured", "container-cold-measured", "microvm-measured"}
    assert all(profile.source.startswith("archsim probe startup") for profile in measured.values())
    assert "image_pull" in measured["container-cold-measured"].phases and "image_pull" not in measured["container-measured"].phases
    report = json.loads((REPO / "scenarios" / "measured" / "startup.json").read_text())
    assert {name: s["notes"].get("accelerator") for name, s in report["series"].items()}["microvm"] in ("kvm", "tcg")
