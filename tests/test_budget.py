"""The run budget refuses runs that would not end, and valid extreme files run to a finite result.

Each case is one of issue 10's classes "valid files whose run never ends / crashes".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator import budget
from simulator.errors import ArchsimError
from simulator.runner import run_scenario
from simulator.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
MM1 = (ROOT / "scenarios" / "mm1.yaml").read_text()


def loaded(tmp_path: Path, text: str, overrides: list[str] | None = None):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return load_scenario(path, overrides)


def refusal(scenario) -> str:
    with pytest.raises(ArchsimError) as caught:
        budget.check(scenario)
    assert "\n" not in caught.value.message
    return caught.value.message


@pytest.mark.parametrize(
    ("label", "text", "overrides", "expected"),
    [
        ("rate 1e12/s with bounded queues", MM1.replace("90/s", "1e12/s").replace("    cores: 1\n", "    cores: 1\n    queue: 10\n"), [], "workload.rate: the run would take about 3.6e+16 simulation events"),
        ("metrics interval of 100 us", MM1, ["metrics_interval=100us"], "metrics_interval: the run would take about 9e+07 time-series ticks"),
        ("1e9 h at a 1 s interval", MM1, ["duration=1e9h", "metrics_interval=1s"], "simulation events"),
        ("spike factor 1e9", MM1.replace("  rate: 90/s\n", "  rate: 90/s\n  spikes: [{at: 10s, duration: 5s, factor: 1e9}]\n"), [], "workload.spikes: the run would take about"),
    ],
)
def test_runs_beyond_the_budget_are_refused_naming_the_field(tmp_path: Path, label: str, text: str, overrides: list[str], expected: str) -> None:
    message = refusal(loaded(tmp_path, text, overrides))
    assert expected in message
    assert "--force" in message


def test_a_deployment_checking_every_nanosecond_is_refused() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "rolling-update.yaml", ["services.api.deployment.check_period=1ns"])
    assert "services.api.deployment.check_period (variant 'vm'): the run would take about 9.6e+12 controller steps" in refusal(scenario)


def test_force_lifts_the_budget(tmp_path: Path) -> None:
    scenario = loaded(tmp_path, MM1, ["metrics_interval=100us"])
    assert budget.check(scenario, force=True)[0].ticks == pytest.approx(1800 / 1e-4 * 5)


def test_a_closed_workload_that_never_lets_time_pass_is_refused_even_with_force(tmp_path: Path) -> None:
    text = "name: z\nduration: 10s\nworkload: {type: closed, users: 5}\nclasses: {a: {calls: [s]}}\nservices: {s: {service_time: 0s}}\n"
    with pytest.raises(budget.NeverEnds, match="zero-time loop"):
        budget.check(loaded(tmp_path, text), force=True)


def test_an_async_call_cycle_that_never_stops_is_refused(tmp_path: Path) -> None:
    text = (
        "name: z\nduration: 10s\nworkload: {rate: 1/s}\nclasses: {a: {calls: [s]}}\n"
        "services:\n  s: {service_time: 1ms, calls: [{call: t, mode: async}]}\n  t: {service_time: 1ms, calls: [{call: s, mode: async}]}\n"
    )
    with pytest.raises(budget.NeverEnds, match="never stops calling"):
        budget.check(loaded(tmp_path, text))


def test_visits_per_request_follow_the_call_graph(tmp_path: Path) -> None:
    text = (
        "name: z\nduration: 10s\nworkload: {rate: 1/s}\nclasses: {a: {calls: [s]}}\n"
        "services:\n  s: {service_time: 1ms, calls: [{call: t, probability: 0.5}, {parallel: [t, t]}]}\n"
        "  t: {service_time: 1ms, calls: [{call: u, repeat_probability: 0.5}]}\n  u: {service_time: 1ms}\n"
    )
    # s once; t 0.5 + 2 = 2.5 times; u twice per t (repeat 0.5 -> 1 / (1 - 0.5))
    assert budget.visits_per_request(loaded(tmp_path, text).base) == {"a": pytest.approx(1 + 2.5 + 5)}


def test_the_shipped_scenarios_are_within_the_budget() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        budget.check(load_scenario(path))


def _short_run(tmp_path: Path, text: str) -> dict:
    scenario = loaded(tmp_path, text, ["duration=5s", "warmup=0s", "metrics_interval=1s", "replications=1"])
    budget.check(scenario)
    return run_scenario(scenario, tmp_path / "run")


def test_1000_async_calls_in_one_operation_run(tmp_path: Path) -> None:
    calls = "".join("      - {call: sink, mode: async}\n" for _ in range(1000))
    text = MM1.replace("    service_time: exp(10ms)\n", "    service_time: exp(1ms)\n    calls:\n" + calls) + "  sink:\n    service_time: exp(0.01ms)\n"
    summary = _short_run(tmp_path, text)
    assert summary["status"] == "ok"
    assert summary["variants"]["base"]["overall"]["throughput_per_s"]["mean"] > 50


def test_a_profile_at_0_per_s_runs_and_sends_nothing_until_the_rate_rises(tmp_path: Path) -> None:
    idle = _short_run(tmp_path, MM1.replace("  rate: 90/s\n", "  profile: [{at: 0s, rate: 0/s}]\n"))
    assert idle["status"] == "ok"
    assert idle["variants"]["base"]["overall"]["throughput_per_s"]["mean"] == 0
    later = _short_run(tmp_path, MM1.replace("  rate: 90/s\n", "  profile: [{at: 0s, rate: 0/s}, {at: 2s, rate: 100/s}]\n"))
    assert 40 < later["variants"]["base"]["overall"]["throughput_per_s"]["mean"] < 80  # 3 s of 100/s over 5 s


def test_a_huge_lognormal_runs_to_a_finite_result(tmp_path: Path) -> None:
    summary = _short_run(tmp_path, MM1.replace("exp(10ms)", "lognormal(1e300s, cv=100)"))
    assert summary["status"] == "ok"


def test_many_spikes_that_never_overlap_do_not_inflate_the_arrival_bound(tmp_path: Path) -> None:
    spikes = ", ".join(f"{{at: {i}s, duration: 0.5s, factor: 4}}" for i in range(1000))
    scenario = loaded(tmp_path, MM1.replace("  rate: 90/s\n", f"  rate: 90/s\n  spikes: [{spikes}]\n"))
    assert budget.estimate(scenario.base, "s.yaml").events == pytest.approx(90 * 4 * 1800 * 4 * 5)


def test_a_run_stopped_by_sigterm_leaves_status_error(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "run", str(ROOT / "scenarios" / "mm1.yaml"), "--out", str(out), "-q", "--no-charts"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while not (out / "summary.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "error"
    assert summary["error"] == "stopped by signal SIGTERM"
    assert process.returncode == 143  # 128 + SIGTERM, as shells report it
    assert stderr.strip().splitlines()[-1] == "error: stopped by signal SIGTERM"
