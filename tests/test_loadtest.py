"""``archsim loadtest`` without containers or Locust runs: the loopback rule, the shape math, the
recorder and the conversion into a run directory that charts and reports accept."""

from __future__ import annotations

import json
import math
import random
import socket
import sys
from pathlib import Path

import pytest
import typer
from loadtest_targets import free_port
from typer.testing import CliRunner

from simulator.report import draw_all
from simulator.errors import ArchsimError
from simulator.loadtest.cli import register
from simulator.loadtest.convert import load_extras, timeseries_rows, variant_block
from simulator.loadtest.pacing import ArrivalSchedule, PacingStats, merge_pacing
from simulator.loadtest.plan import LoadPlan, mean_rate, plan_for, spike_events, task_weights, users_for_open
from simulator.loadtest.recording import Recorder
from simulator.loadtest.target import check_target
from simulator.report import build_report
from simulator.results import rundir
from simulator.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]


# --- the loopback rule ---------------------------------------------------------------------------


def resolver(*addresses: str):
    def resolve(host, port, family=0, kind=0):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, kind, 6, "", (a, port)) for a in addresses]
    return resolve


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}", "http://127.9.8.7", "http://[::1]:{port}/", "http://localhost:{port}"])
def test_loopback_targets_are_allowed(url):
    url = url.format(port=free_port())  # nothing listens: the rule reads the address only
    assert check_target(url) == url.rstrip("/")


def test_a_private_address_is_refused_with_the_way_to_opt_in():
    with pytest.raises(ArchsimError) as refused:
        check_target("http://10.0.0.1:8080")
    assert str(refused.value) == ("--host http://10.0.0.1:8080: not a loopback address; archsim loads only this machine "
                                  "by default: pass --allow-remote to load a host you are entitled to test")


def test_a_name_is_refused_if_any_of_its_addresses_is_not_loopback():
    with pytest.raises(ArchsimError, match=r"resolves to 93\.184\.216\.34.*--allow-remote"):
        check_target("http://example.com", resolve=resolver("93.184.216.34"))
    with pytest.raises(ArchsimError, match=r"resolves to 10\.1\.2\.3"):
        check_target("http://sneaky.test", resolve=resolver("127.0.0.1", "10.1.2.3"))
    assert check_target("http://shop.test:80", resolve=resolver("127.0.0.1", "::1")) == "http://shop.test:80"


def test_allow_remote_lifts_the_rule_and_bad_urls_are_one_line():
    assert check_target("http://10.0.0.1:8080", allow_remote=True) == "http://10.0.0.1:8080"
    with pytest.raises(ArchsimError, match=r"expected a URL such as http://127\.0\.0\.1:18080"):
        check_target(f"127.0.0.1:{free_port()}")


# --- shape math ----------------------------------------------------------------------------------


def spiky_scenario(tmp_path: Path, workload: str) -> Path:
    path = tmp_path / "spiky.yaml"
    path.write_text(f"""
name: spiky
duration: 40s
warmup: 10s
metrics_interval: 5s
workload: {workload}
classes:
  a: {{calls: [s]}}
  b: {{calls: [s]}}
services:
  s: {{service_time: exp(1ms)}}
""")
    return path


def test_open_plan_follows_the_profile_and_spikes_and_sizes_users(tmp_path):
    loaded = load_scenario(spiky_scenario(tmp_path, "{rate: 100/s, spikes: [{at: 20s, duration: 5s, factor: 3}], mix: {a: 0.75, b: 0.25}}"))
    plan = plan_for(loaded.base, latency_bound_s=0.1)
    rate = plan.rate()
    assert [rate(t) for t in (0, 19.99, 20, 24.99, 25, 39)] == [100, 100, 300, 300, 100, 100]
    assert plan.peak_rate_per_s == 300
    assert plan.target_rate_per_s == pytest.approx((25 * 100 + 5 * 300) / 30)  # mean over the window [10 s, 40 s)
    # the pool: mean in flight 300/s x 0.1 s = 30, plus 4 standard deviations, plus 5 spare users
    assert plan.users == users_for_open(300, 0.1) == math.ceil(30 + 4 * math.sqrt(30) + 5) == 57
    assert users_for_open(300, 0.1, workers=2) == 2 * math.ceil(15 + 4 * math.sqrt(15) + 5) == 72
    assert (plan.model, plan.spawn_rate_per_s, plan.duration_s, plan.warmup_s) == ("open", 570.0, 40.0, 10.0)
    assert spike_events(plan) == [{"time_s": 20.0, "kind": "spike", "factor": 3.0, "duration_s": 5.0}]
    assert LoadPlan.from_json(plan.to_json()) == plan
    short = plan_for(loaded.base, duration_s=12.0, users=7)
    assert (short.duration_s, short.warmup_s, short.users) == (12.0, 6.0, 7)  # warm-up capped at half


def test_ramped_profile_mean_rate():
    from simulator.engine.workload import RateProfile
    from simulator.scenario.model import OpenWorkload

    profile = RateProfile(OpenWorkload.model_validate({"profile": [{"at": "0s", "rate": "10/s"}, {"at": "10s", "rate": "30/s", "ramp": "10s"}]}))
    assert mean_rate(profile, 0, 10) == pytest.approx(10)
    assert mean_rate(profile, 10, 20) == pytest.approx(20)
    assert mean_rate(profile, 20, 30) == pytest.approx(30)


def test_closed_plan_keeps_users_spawn_rate_and_think_time(tmp_path):
    loaded = load_scenario(spiky_scenario(tmp_path, "{type: closed, users: 12, spawn_rate: 4/s, think_time: exp(200ms), mix: {a: 0.5, b: 0.5}}"))
    plan = plan_for(loaded.base)
    assert (plan.model, plan.users, plan.spawn_rate_per_s) == ("closed", 12, 4.0)
    from simulator.loadtest.pacing import think_sampler

    sampler = think_sampler(plan, 3)
    draws = [sampler() for _ in range(20000)]
    assert sum(draws) / len(draws) == pytest.approx(0.2, rel=0.03)


def test_task_weights_are_the_mix_in_lowest_terms():
    assert task_weights({"browse": 0.60, "add_to_cart": 0.25, "place_order": 0.10, "order_status": 0.05}) == {
        "browse": 12, "add_to_cart": 5, "place_order": 2, "order_status": 1}
    assert task_weights({"a": 1.0, "b": 0.0}) == {"a": 1}


def test_the_schedules_of_several_processes_together_offer_the_target_rate_over_a_spike_and_the_mix():
    from simulator.engine.workload import RateProfile
    from simulator.scenario.model import OpenWorkload

    profile = RateProfile(OpenWorkload.model_validate({"rate": "50/s", "spikes": [{"at": "20s", "duration": "10s", "factor": 4}]}))
    counts = {"before": 0, "spike": 0, "after": 0}
    classes = {"a": 0, "b": 0}
    for process in range(2):
        schedule = ArrivalSchedule(profile, profile.peak, {"a": 0.75, "b": 0.25}, random.Random(process), processes=2, horizon_s=40.0)
        previous = 0.0
        while True:
            t, name = schedule.take()
            if t == math.inf:
                break
            assert t >= previous
            previous = t
            counts["before" if t < 20 else "spike" if t < 30 else "after"] += 1
            classes[name] += 1
    # Poisson counts: 1000, 2000 and 500 expected; 4 standard deviations is at most 13%
    assert counts["before"] / 20 == pytest.approx(50, rel=0.13)
    assert counts["spike"] / 10 == pytest.approx(200, rel=0.09)
    assert counts["after"] / 10 == pytest.approx(50, rel=0.18)
    assert classes["a"] / sum(classes.values()) == pytest.approx(0.75, abs=0.04)


def test_deterministic_arrivals_are_evenly_spaced_and_untaken_ones_are_dropped():
    schedule = ArrivalSchedule(lambda t: 100.0, 100.0, {"a": 1.0}, random.Random(1), deterministic=True, horizon_s=10.0)
    times = [schedule.take()[0] for _ in range(50)]
    assert [round(b - a, 9) for a, b in zip(times, times[1:])] == [0.01] * 49
    # the rest of the 1,000 arrivals before 10 s were never taken; those due in [2 s, 10 s) count
    dropped = schedule.untaken_before(10.0, start_s=2.0)
    assert dropped == 800
    assert schedule.take()[0] == math.inf


def test_pacing_counts_late_and_dropped_arrivals_in_the_window_only():
    stats = PacingStats(window_start_s=1.0, window_end_s=10.0)
    stats.sent(0.5, 0.9)  # warm-up: not counted
    stats.sent(1.0, 1.009)  # within the 10 ms tolerance
    stats.sent(2.0, 2.05)
    stats.dropped = 2
    assert stats.as_dict() == {"scheduled": 4, "arrivals": 2, "late": 1, "dropped": 2, "late_share": 0.25, "dropped_share": 0.5,
                               "mean_lag_s": pytest.approx(0.05), "max_lag_s": pytest.approx(0.05)}
    merged = merge_pacing([stats.as_dict(), PacingStats(1.0, 10.0, arrivals=6, late=1, lag_sum_s=0.2, lag_max_s=0.2).as_dict()])
    assert (merged["scheduled"], merged["late"], merged["late_share"], merged["max_lag_s"]) == (10, 2, 0.2, 0.2)
    assert merged["mean_lag_s"] == pytest.approx(0.125)


# --- recorder and conversion ---------------------------------------------------------------------


def recorded(plan: LoadPlan) -> dict:
    """A recorder fed like Locust feeds it: 10 requests/s of ``a`` (10 ms) and 2/s of ``b`` (50 ms,
    every fifth one failing), over the plan's duration."""
    recorder = Recorder(plan.interval_s, plan.warmup_s, plan.duration_s, ["a", "b"])
    events = []
    for i in range(int(plan.duration_s * 10)):
        events.append((i / 10 + 0.01, "a", i / 10, 0.01, True))
    for i in range(int(plan.duration_s * 2)):
        events.append((i / 2 + 0.05, "b", i / 2, 0.05, i % 5 != 4))
    for _, name, start, latency, ok in sorted(events):  # completion order
        recorder.record(name, start, latency, ok, None if ok else "HTTPError: 500")
    recorder.record("login", 11.0, 0.003, True)  # a set-up request: not a class
    pacing = PacingStats(plan.warmup_s, plan.duration_s, arrivals=120, late=2, lag_sum_s=0.02, lag_max_s=0.015)
    return recorder.result(plan.duration_s, {"locust_version": "2.47.0", "pacing": pacing.as_dict()})


def test_recorder_totals_exclude_the_warmup_and_intervals_cover_the_run(tmp_path):
    plan = plan_for(load_scenario(spiky_scenario(tmp_path, "{rate: 12/s, mix: {a: 0.8, b: 0.2}}")).base, duration_s=20.0)
    record = recorded(plan)
    assert plan.warmup_s == 10.0
    assert {n: (c["requests"], c["successes"], c["errors"]) for n, c in record["classes"].items()} == {"a": (100, 100, 0), "b": (20, 16, 4)}
    assert record["failures"] == {"b: HTTPError: 500": 4}
    assert [(r["time_s"], r["started"], r["ok"], r["failed"]) for r in record["intervals"]] == [
        (5.0, 60, 58, 2), (10.0, 60, 58, 2), (15.0, 60, 58, 2), (20.0, 60, 58, 2)]
    assert record["intervals"][0]["flight_area"] == pytest.approx(50 * 0.01 + 10 * 0.05)
    assert record["setup"]["login"]["requests"] == 1 and "login" not in record["classes"]
    rows = timeseries_rows(record, plan, "measured")
    assert rows[0]["latency_p50_s"] == pytest.approx(0.01, rel=0.01) and rows[0]["in_flight"] == pytest.approx(0.2)
    json.dumps(record)  # JSON-ready


def test_a_record_converts_into_a_run_directory_that_charts_and_reports_accept(tmp_path):
    loaded = load_scenario(spiky_scenario(tmp_path, "{rate: 12/s, spikes: [{at: 12s, duration: 3s, factor: 2}], mix: {a: 0.8, b: 0.2}}"))
    plan = plan_for(loaded.base, duration_s=20.0)
    record = recorded(plan)
    block = variant_block(record, plan, description="measured", extras=load_extras(record, plan, "http://127.0.0.1:1"))
    assert block["overall"]["requests"] == {"mean": 120.0, "ci95": None, "low": None, "high": None, "n": 1, "values": [120.0]}
    assert block["classes"]["b"]["error_rate"]["mean"] == pytest.approx(0.2)
    assert block["classes"]["a"]["latency_p95_s"]["mean"] == pytest.approx(0.01, rel=0.01)
    assert block["overall"]["offered_rate_per_s"]["mean"] == pytest.approx(12.0)
    assert block["extras"]["target_host"] == "http://127.0.0.1:1"
    assert block["extras"]["target_rate_per_s"]["mean"] == pytest.approx((7 * 12 + 3 * 24) / 10)
    assert block["events"] == [{"time_s": 12.0, "kind": "spike", "factor": 2.0, "duration_s": 3.0}]

    run_dir = tmp_path / "run"
    summary = {"schema": rundir.SCHEMA, "source": "measured", "scenario": {"name": "spiky", "description": "", "file": "x"},
               "seed": 1, "replications": 1, "duration_s": 20.0, "warmup_s": 10.0, "metrics_interval_s": 5.0,
               "status": "ok", "error": None, "variants": {"measured": block}}
    rundir.write_json(run_dir / "summary.json", summary)
    rundir.atomic_write(run_dir / "timeseries.csv", rundir.timeseries_csv(timeseries_rows(record, plan, "measured")))
    rundir.atomic_write(run_dir / "measured_stats.csv", rundir.locust_stats_csv(block, request_type="GET"))
    made = draw_all(run_dir)
    assert (run_dir / "report.html").exists() and any(p.suffix == ".png" for p in made)
    assert "(measured)" in (run_dir / "report.md").read_text() or "measured" in (run_dir / "report.md").read_text()
    build_report([run_dir], tmp_path / "again")


# --- the command ---------------------------------------------------------------------------------


def test_a_locustfile_without_the_scenarios_classes_is_one_line(tmp_path):
    locustfile = tmp_path / "other.py"
    locustfile.write_text("from locust import HttpUser, task\n\nclass U(HttpUser):\n    @task\n    def a(self):\n        pass\n")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # two commands, so Typer keeps 'loadtest' as a subcommand
    result = CliRunner().invoke(app, ["loadtest", str(spiky_scenario(tmp_path, "{rate: 5/s, mix: {a: 0.5, b: 0.5}}")),
                                      "--host", "http://127.0.0.1:1", "--locustfile", str(locustfile)])
    assert isinstance(result.exception, ArchsimError)
    assert str(result.exception) == f"{locustfile}: user class U has no task named 'b' (it has: a); task names must be the scenario's request classes"
    # Locust runs in its own processes: importing it here would monkey-patch this one with gevent
    # (threads, subprocesses), and a process pool started after it would block forever.
    assert "gevent" not in sys.modules and "locust" not in sys.modules


def test_the_cli_default_latency_bound_is_the_planners():
    from simulator.loadtest.cli import DEFAULT_LATENCY_BOUND
    from simulator.loadtest.plan import DEFAULT_LATENCY_BOUND_S
    from simulator.units import parse_duration

    assert parse_duration(DEFAULT_LATENCY_BOUND) == DEFAULT_LATENCY_BOUND_S


def test_the_loadtest_package_never_imports_the_main_cli():
    import subprocess
    import sys

    code = ("import sys, simulator.loadtest.cli, simulator.loadtest.api, simulator.loadtest.run; "
            "print('simulator.cli' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_a_missing_locust_is_named_as_a_missing_dependency(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['locust'] = None\n"  # as if Locust were not installed
            "from simulator.loadtest.cli import main\n"
            f"main([{str(spiky_scenario(tmp_path, '{rate: 5/s, mix: {a: 0.5, b: 0.5}}'))!r}, '--host', 'http://127.0.0.1:9'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: archsim loadtest needs Locust, which is not installed: python3 -m pip install -e . (or pip install locust)"]
