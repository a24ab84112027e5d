"""Platforms, autoscaling, rollouts, failures, resilience and cost, checked against numbers worked out here."""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pytest

from simulator.engine import simulation as engine
from simulator.platforms import extensions_for
from simulator.scenario.platform_defaults import DEFAULTS, resolve
from simulator.scenario.platform import ServicePlatform
from simulator.platforms.startup import StartupModel
from simulator.engine.rng import Streams
from simulator.scenario.model import Scenario


def simulate(s: Scenario, replication: int = 0):
    """One replication with the extensions the scenario needs, as the runner passes them."""
    return engine.simulate(s, replication, extensions=extensions_for(s))


def build(s: Scenario, replication: int = 0) -> engine.Simulation:
    """The built model of one replication, with the extensions the scenario needs."""
    return engine.Simulation(s, replication, extensions_for(s))


SCENARIOS = __import__("pathlib").Path(__file__).resolve().parents[1] / "scenarios"


def scenario(**fields) -> Scenario:
    base = {
        "name": "t",
        "duration": "300s",
        "workload": {"rate": "50/s"},
        "classes": {"c": {"calls": ["api"]}},
        "services": {"api": {"instances": 1, "cores": 1, "service_time": "exp(5ms)"}},
    }
    for key, value in fields.items():
        node = base
        parts = key.split("__")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return Scenario.model_validate(base)


# --- start-up composes ----------------------------------------------------------------------------


def test_startup_mean_of_the_sum_is_the_sum_of_the_phase_means():
    platform = resolve(ServicePlatform(kind="container", provisioning="exp(3s)", image="300MB", pull_bandwidth="100MB/s",
                                       cache_hit_ratio=0.25, runtime="uniform(0.5s, 1.2s)", app_init="gamma(2s, cv=0.5)",
                                       readiness="uniform(0s, 10s)"), {})
    expected = {"provisioning": 3.0, "image_pull": 0.75 * 3.0, "runtime": 0.85, "app_init": 2.0, "readiness": 5.0}
    assert platform.expected_startup_s == pytest.approx(expected)
    model = StartupModel(platform, Streams(1, 0), "api")
    draws = [model.sample() for _ in range(40000)]
    totals = np.array([sum(d.values()) for d in draws])
    sd = totals.std() / math.sqrt(len(totals))
    assert totals.mean() == pytest.approx(sum(expected.values()), abs=4 * sd)  # 13.1 s
    for phase, mean in expected.items():
        assert np.mean([d[phase] for d in draws]) == pytest.approx(mean, rel=0.03)
    hits = np.mean([d["image_pull"] == 0.0 for d in draws])
    assert hits == pytest.approx(0.25, abs=0.01)


def test_profile_file_replaces_the_phases_it_measures(tmp_path):
    path = tmp_path / "startup.json"
    path.write_text(json.dumps({"kind": "container", "phases": {"runtime": [1.0, 3.0], "image_pull": [0.0, 4.0]}}))
    platform = resolve(ServicePlatform(kind="container", profile=str(path), app_init="1s", readiness="0s"), {})
    assert platform.expected_startup_s["runtime"] == 2.0 and platform.expected_startup_s["image_pull"] == 2.0
    model = StartupModel(platform, Streams(1, 0), "api")
    draws = [model.sample() for _ in range(2000)]
    assert {d["runtime"] for d in draws} == {1.0, 3.0}
    assert np.mean([sum(d.values()) for d in draws]) == pytest.approx(2 + 2 + 1, rel=0.05)


def test_plain_service_is_untouched_and_platform_fields_are_validated():
    plain = scenario()
    assert not plain.uses_platforms
    sim = build(plain)
    assert not hasattr(sim, "platforms") and sim.services["api"].ready
    with pytest.raises(ValueError, match="no `platform`"):
        scenario(services__api__autoscaling={"min": 1, "max": 3})
    with pytest.raises(ValueError, match="kind"):
        scenario(services__api__platform="lambda")
    with pytest.raises(ValueError, match="unknown service"):
        scenario(failures=[{"kind": "crash", "service": "nope", "at": "1s"}])


def test_container_defaults_are_the_cited_ones():
    assert DEFAULTS["vm"].provisioning.mean == pytest.approx(96.9)  # Mao & Humphrey 2012
    assert DEFAULTS["microvm"].runtime.mean == pytest.approx(0.125)  # Firecracker spec
    assert DEFAULTS["microvm"].overhead_memory_mb == pytest.approx(5 * 1.048576)
    assert (DEFAULTS["container"].runtime.low_s, DEFAULTS["container"].runtime.high_s) == (0.5, 1.2)


# --- autoscaling: recovery tracks start-up ------------------------------------------------------------


def spike(platform: str) -> Scenario:
    return scenario(
        duration="400s", warmup="20s", metrics_interval="5s", seed=3,
        slo={"p95": "100ms"},
        workload={"rate": "100/s", "spikes": [{"at": "60s", "duration": "300s", "factor": 4}]},
        services={"api": {"instances": 2, "cores": 1, "queue": 20, "load_balancing": "least_connections",
                          "service_time": "exp(10ms)", "platform": {"kind": platform, "readiness": "0s", "app_init": "1s"},
                          "autoscaling": {"metric": "requests_per_instance", "target": "60/s", "min": 2, "max": 12,
                                          "sync_period": "5s", "scale_up_pods": 20}}},
    )


def test_recovery_after_a_spike_tracks_the_platforms_startup_time():
    results = {kind: simulate(spike(kind)) for kind in ("vm", "container", "process")}
    recovery = {k: r.extras["recovery"]["time_to_slo_recovery_s"] for k, r in results.items()}
    startup = {k: r.extras["platform"]["api"]["startup_mean_s"] for k, r in results.items()}
    # vm: ~97 s boot + 1 s init; container: ~2-3 s; process ~1 s. Recovery = start-up + up to a
    # sync period (5 s) + a metrics interval (5 s) of resolution. (The request-rate metric sizes the
    # fleet in one step; a saturated CPU metric would need a second round of start-ups.)
    assert startup["vm"] > 80 and startup["container"] < 5
    assert recovery["vm"] == pytest.approx(startup["vm"], abs=30)
    assert recovery["container"] <= startup["container"] + 25
    assert recovery["vm"] - recovery["container"] > 60
    for r in results.values():
        assert r.extras["platform"]["api"]["startups"] >= 3
        assert max(row["instances.api"] for row in r.timeseries) >= 6
        assert any(e["kind"] == "scale_up" for e in r.events)


def test_new_capacity_serves_only_when_ready():
    r = simulate(spike("vm"))
    rows = r.timeseries
    first_up = next(e for e in r.events if e["kind"] == "scale_up")["time_s"]
    before_ready = [row for row in rows if first_up < row["time_s"] <= first_up + 60]
    assert all(row["instances.api"] == 2 for row in before_ready)  # still booting
    assert any(row["provisioning.api"] > 0 for row in before_ready)


# --- rollouts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("surge,unavailable", [(1, 0), (2, 1), (0, 2)])
def test_a_rollout_never_drops_below_replicas_minus_max_unavailable(surge, unavailable):
    s = scenario(duration="200s", metrics_interval="1s",
                 services={"api": {"instances": 5, "cores": 1, "service_time": "exp(5ms)", "load_balancing": "least_connections",
                                   "platform": {"kind": "container", "app_init": "2s", "readiness": "uniform(0s, 4s)"},
                                   "deployment": {"at": "20s", "max_surge": surge, "max_unavailable": unavailable}}})
    sim = build(s)
    ready_seen = []
    fleet = sim.platforms.fleets["api"]
    fleet.on_change.append(lambda f: ready_seen.append((sim.env.now, f.ready)))
    r = sim.run()
    rollout = r.extras["rollout"]
    assert rollout["completed"] == 1 and rollout["rolled_back"] == 0
    assert rollout["min_ready"] >= 5 - unavailable
    assert min(n for t, n in ready_seen if t >= 20) >= 5 - unavailable
    assert all(m.version.name == "v2" for m in fleet.active()) and len(fleet.active()) == 5
    assert 0 < rollout["duration_s"] < 150


def test_a_version_that_fails_readiness_is_rolled_back_after_the_deadline():
    s = scenario(duration="200s",
                 services={"api": {"instances": 3, "cores": 1, "service_time": "exp(5ms)", "platform": "container",
                                   "deployment": {"at": "10s", "new_version": {"fails_readiness": True},
                                                  "rollback_on": {"progress_deadline": "30s"}}}})
    r = simulate(s)
    assert r.extras["rollout"]["rolled_back"] == 1
    assert r.extras["rollout"]["duration_s"] == pytest.approx(31, abs=3)
    assert r.extras["rollout"]["min_ready"] == 3
    assert [e["kind"] for e in r.events if e["kind"].startswith("roll")] == ["rollout_start", "rollback", "rollout_end"]


# --- failures and availability ------------------------------------------------------------------------


def test_availability_with_exponential_mtbf_and_mttr_is_mtbf_over_mtbf_plus_mttr():
    mtbf, mttr = 100.0, 25.0
    s = scenario(duration="40000s", workload={"rate": "1/s"}, metrics_interval="400s",
                 services={"api": {"instances": 1, "cores": 1, "service_time": "exp(5ms)", "platform": "process"}},
                 failures=[{"kind": "crash", "service": "api", "mtbf": mtbf, "mttr": f"exp({mttr}s)"}])
    values = [simulate(s, rep).extras["availability"]["api"] for rep in range(3)]
    # ~320 up/down cycles per replication: sd of the fraction ~ 0.013; mean of 3 within ~3 sd
    assert np.mean(values) == pytest.approx(mtbf / (mtbf + mttr), abs=0.025)


def test_a_crash_is_detected_and_the_instance_restarts():
    s = scenario(duration="100s", metrics_interval="1s",
                 services={"api": {"instances": 2, "cores": 1, "service_time": "exp(5ms)",
                                   "platform": {"kind": "container", "runtime": "1s", "app_init": "2s", "readiness": "0s"}}},
                 failures=[{"kind": "crash", "service": "api", "at": "30s", "detection": "10s"}])
    r = simulate(s)
    crash = next(e for e in r.events if e["kind"] == "crash")
    restart = next(e for e in r.events if e["kind"] == "restart")
    assert restart["time_s"] - crash["time_s"] == pytest.approx(10 + 1 + 2)
    assert r.extras["availability"]["api"] == 1.0  # the other instance kept serving


def test_an_outage_takes_the_whole_service_down_for_its_duration():
    s = scenario(duration="200s", services={"api": {"instances": 3, "cores": 1, "service_time": "exp(5ms)", "platform": "container"}},
                 failures=[{"kind": "outage", "service": "api", "at": "50s", "duration": "40s"}])
    r = simulate(s)
    assert r.extras["availability"]["api"] == pytest.approx(160 / 200, abs=1e-6)
    assert r.extras["availability"]["overall"] == pytest.approx(0.8, abs=1e-6)
    assert {"outage_start", "outage_end"} <= {e["kind"] for e in r.events}


def test_retries_amplify_load_as_computed():
    p, retries = 0.3, 2
    s = scenario(duration="400s", workload={"rate": "100/s"},
                 classes={"c": {"calls": [{"call": "api", "retries": retries}]}},
                 services={"api": {"instances": 1, "cores": 2, "service_time": "exp(2ms)"}},
                 failures=[{"kind": "errors", "service": "api", "at": "0s", "duration": "10000s", "error_rate": p}])
    sim = build(s)
    r = sim.run()
    step = sim.compiler.resilient[0][1]
    offered = sim.source.offered
    expected = sum(p**i for i in range(retries + 1))  # 1 + p + p^2 = 1.39 attempts per request
    assert step.attempts / offered == pytest.approx(expected, rel=0.02)
    assert r.overall["error_rate"] == pytest.approx(p ** (retries + 1), abs=0.006)  # 2.7%
    assert r.extras["resilience"]["classes.c.calls[0]"]["attempts"] == step.attempts


def test_a_circuit_breaker_fails_fast_while_the_callee_is_down():
    s = scenario(duration="120s", workload={"rate": "100/s"},
                 classes={"c": {"calls": [{"call": "api", "circuit_breaker": {"failure_ratio": 0.5, "window": "5s",
                                                                               "min_calls": 20, "open_for": "10s"}}]}},
                 services={"api": {"instances": 1, "cores": 1, "service_time": "exp(2ms)", "platform": "process"}},
                 failures=[{"kind": "outage", "service": "api", "at": "30s", "duration": "30s"}])
    sim = build(s)
    r = sim.run()
    breaker = sim.compiler.breakers[0][1]
    # down 30 s at 100/s = ~3000 calls; all but the window's first ~20 and a trial every 10 s fail fast
    assert breaker.opened >= 3
    assert breaker.rejected > 2500
    assert r.extras["resilience"]["classes.c.calls[0]"]["breaker_rejections"] == breaker.rejected


# --- packing and cost --------------------------------------------------------------------------------


def test_instances_are_packed_onto_hosts_by_their_requests_and_cost_matches_by_hand():
    # 8-core, 16 GB hosts; instances request 3 cores and 4 GB + 0.5 GB overhead -> 2 per host (cores)
    s = scenario(duration="3600s", workload={"rate": "10/s"}, metrics_interval="60s",
                 hosts={"cores": 8, "memory": "16GB", "initial": 1, "price_per_hour": 0.4},
                 services={"api": {"instances": 5, "cores": 3, "service_time": "exp(5ms)",
                                   "platform": {"kind": "container", "memory": "4GB", "overhead_memory": "500MB"}}})
    sim = build(s)
    assert [len(h.members) for h in sim.platforms.hosts.hosts] == [2, 2, 1]
    r = sim.run()
    assert r.extras["cost"]["host_hours"] == pytest.approx(3.0)
    assert r.extras["cost"]["total_usd"] == pytest.approx(3 * 0.4)
    busy_core_s = 10 * 0.005 * 3600  # utilisation law: lambda * E[S] cores busy
    assert r.extras["cost"]["idle_fraction"] == pytest.approx(1 - busy_core_s / (3 * 8 * 3600), abs=0.001)


def test_per_instance_cost_matches_by_hand():
    # 4 instances x 2 vCPU x 1 h at 0.04048 + 4 x 512 MB (0.512 GB) x 1 h at 0.004445
    s = scenario(duration="3600s", workload={"rate": "20/s"}, metrics_interval="60s",
                 services={"api": {"instances": 4, "cores": 2, "service_time": "exp(5ms)", "platform": "container"}})
    r = simulate(s)
    expected = 4 * (2 * 0.04048 + 0.512 * 0.004445)
    cost = r.extras["cost"]
    assert cost["total_usd"] == pytest.approx(expected)
    assert cost["per_million_requests_usd"] == pytest.approx(expected / r.overall["successes"] * 1e6)


def test_a_full_cluster_adds_a_host_that_must_boot():
    s = scenario(duration="300s", hosts={"cores": 4, "memory": "64GB", "initial": 1, "boot": "60s"},
                 services={"api": {"instances": 2, "cores": 2, "service_time": "exp(5ms)",
                                   "platform": {"kind": "process", "app_init": "1s", "readiness": "0s", "runtime": "0s"}}},
                 failures=[])
    sim = build(s)
    fleet = sim.platforms.fleets["api"]
    sim.at(10.0, lambda: fleet.launch())
    r = sim.run()
    added = [e for e in r.events if e["kind"] == "host_added"]
    ready = [e for e in r.events if e["kind"] == "startup"]
    assert len(added) == 1 and added[0]["time_s"] == 10.0
    assert ready[0]["time_s"] == pytest.approx(10 + 60 + 1)
    assert ready[0]["provisioning_s"] == pytest.approx(60)  # waiting for the host counts as provisioning


# --- shipped scenarios -------------------------------------------------------------------------------


def run_cli(tmp_path, name: str, *sets: str) -> dict:
    out = tmp_path / name
    args = ["archsim", "run", str(SCENARIOS / f"{name}.yaml"), "--no-charts", "-q", "--out", str(out), "--set", "replications=1"]
    for s in sets:
        args += ["--set", s]
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    summary = json.loads((out / "summary.json").read_text())
    return {n: v["extras"] for n, v in summary["variants"].items()}


def mean(block):
    return block["mean"]


def test_shipped_spike_scenario_shows_vm_recovering_slower_than_containers(tmp_path):
    extras = run_cli(tmp_path, "spike-vm-vs-container", "duration=8m", "workload.spikes.0.at=3m", "workload.spikes.0.duration=4m")
    vm, container = extras["vm"], extras["container"]
    assert mean(vm["recovery"]["time_to_slo_recovery_s"]) > mean(container["recovery"]["time_to_slo_recovery_s"]) + 60
    assert mean(vm["platform"]["api"]["startup_mean_s"]) > 10 * mean(container["platform"]["api"]["startup_mean_s"])
    assert vm["platform"]["api"]["kind"] == "vm"
    assert mean(vm["cost"]["total_usd"]) > 0 and mean(container["cost"]["per_million_requests_usd"]) > 0


def test_shipped_cost_scenario_shows_peak_sized_vms_cost_more_per_request(tmp_path):
    extras = run_cli(tmp_path, "cost-per-request", "duration=16m", "workload.profile.1.at=6m", "workload.profile.2.at=11m")
    per_million = {n: mean(e["cost"]["per_million_requests_usd"]) for n, e in extras.items()}
    assert per_million["vm-peak-sized"] > 1.5 * per_million["container-autoscaled"]
    assert mean(extras["vm-autoscaled"]["recovery"]["time_to_slo_recovery_s"]) > mean(extras["container-autoscaled"]["recovery"]["time_to_slo_recovery_s"])
    assert mean(extras["container-cluster"]["cost"]["host_hours"]) > 0


def test_shipped_rolling_update_and_failure_scenarios_run(tmp_path):
    rolling = run_cli(tmp_path, "rolling-update", "duration=6m")
    assert mean(rolling["container"]["rollout"]["min_ready"]) >= 6
    assert mean(rolling["vm"]["rollout"]["duration_s"]) > 5 * mean(rolling["container"]["rollout"]["duration_s"])
    assert mean(rolling["container-bad-version"]["rollout"]["rolled_back"]) == 1
    failures = run_cli(tmp_path, "failure-recovery", "duration=12m")
    assert mean(failures["vm"]["availability"]["api"]) < 1 and mean(failures["container"]["availability"]["api"]) < 1
    assert mean(failures["vm"]["platform"]["api"]["startup_mean_s"]) > mean(failures["container"]["platform"]["api"]["startup_mean_s"])


def test_a_relative_profile_path_is_read_from_the_scenario_folder(tmp_path, monkeypatch):
    """A scenario and its measured start-up profile move together, wherever archsim is run from."""
    import json

    from simulator.scenario import load_scenario

    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "startup.json").write_text(json.dumps({"phases": {"runtime": [0.5, 0.7], "app_init": [1.0, 1.2]}}))
    (folder / "s.yaml").write_text(
        "name: p\nduration: 10s\nworkload: {rate: 1/s}\nclasses: {a: {calls: [api]}}\n"
        "services:\n  api:\n    service_time: 1ms\n    platform: {kind: container, profile: startup.json}\n"
    )
    monkeypatch.chdir(tmp_path)  # not the scenario's folder
    loaded = load_scenario(folder / "s.yaml")
    profile = loaded.base.services["api"].platform.profile
    assert profile.phases["app_init"] == [1.0, 1.2]


# --- regressions found in review: capacity, repair after a stop, recovery window -------------------

REVIEW_BASE = "name: review\nseed: 1\nreplications: 1\nmetrics_interval: 10s\nclasses: {c: {calls: [api]}}\n"


def _review_run(tmp_path, text):
    from simulator.scenario import load_scenario

    path = tmp_path / "review.yaml"
    path.write_text(REVIEW_BASE + text)
    sim = build(load_scenario(path).variants[0].scenario, 0)
    return sim, sim.run()


def test_utilisation_counts_only_the_capacity_that_was_up(tmp_path):
    # two 1-core instances at 160/s x 10 ms; instance 0 dies at 15 s and stays down: the
    # survivor's core is nearly saturated, so utilisation = busy / (2 x 15 + 1 x 85) core-s
    sim, result = _review_run(tmp_path, (
        "duration: 100s\nwarmup: 0s\nworkload: {rate: 160/s}\n"
        "services:\n  api: {instances: 2, cores: 1, queue: 50, service_time: exp(10ms)}\n"
        "failures:\n  - {kind: crash, service: api, at: 15s, instance: 0, mttr: 200s}\n"
    ))
    busy = sum(i.busy_area for i in sim.services["api"].all_instances())
    assert result.services["api"]["utilisation"] == pytest.approx(busy / (2 * 15 + 85), rel=1e-6)
    assert result.services["api"]["utilisation"] > 0.9
    assert max(row["utilisation.api"] for row in result.timeseries) <= 1.0 + 1e-9


def test_a_failed_instance_stopped_before_detection_is_not_replaced(tmp_path):
    # instance 0 crashes at 95 s (detection 10 s); the scheduled scale-down to 2 at 100 s stops it:
    # no replacement may start at 105 s
    sim, result = _review_run(tmp_path, (
        "duration: 300s\nwarmup: 0s\nworkload: {rate: 100/s}\n"
        "services:\n  api:\n    instances: 4\n    cores: 1\n    service_time: exp(10ms)\n    platform: container\n"
        "    autoscaling: {metric: none, min: 4, max: 4, schedule: [{at: 100s, min: 2, max: 2}]}\n"
        "failures:\n  - {kind: crash, service: api, at: 95s, instance: 0, detection: 10s, recovery: replace}\n"
    ))
    assert not [e for e in result.events if e["kind"] == "startup"], "no instance may start after the scale-down"
    assert result.timeseries[-1]["instances.api"] == 2


@pytest.mark.parametrize(
    "spike,expected_s",
    [("{at: 100s, duration: 30s, factor: 3}", 70.0), ("{at: 102s, duration: 4s, factor: 10}", 38.0)],
    ids=["recovers after the spike ends", "spike shorter than an interval"],
)
def test_recovery_is_measured_until_the_backlog_has_drained(tmp_path, spike, expected_s):
    # one 1-core instance at 50/s x 10 ms: a 3x spike overloads it (150/s > 100/s) and its backlog
    # drains only well after the spike; the recovery window runs to the run's end, not the spike's
    _, result = _review_run(tmp_path, (
        f"duration: 400s\nwarmup: 50s\nslo: {{p95: 100ms}}\nworkload: {{rate: 50/s, spikes: [{spike}]}}\n"
        "services:\n  api: {instances: 1, cores: 1, service_time: exp(10ms)}\n"
    ))
    recovery = result.extras["recovery"]
    assert recovery["time_to_slo_recovery_s"] == pytest.approx(expected_s)
    assert recovery["recovered"] == 1.0


def test_the_end_of_warm_up_does_not_make_the_autoscaler_scale_down(tmp_path):
    # steady 200/s on 4 instances at a target of 50/s each: the right size all along. Warm-up
    # zeroes the instances' counters at 62 s; the sync at 75 s must still see 200/s, not 0.
    _, result = _review_run(tmp_path, (
        "duration: 200s\nwarmup: 62s\nworkload: {rate: 200/s}\n"
        "services:\n  api:\n    instances: 4\n    cores: 1\n    service_time: exp(10ms)\n    platform: container\n"
        "    autoscaling: {metric: requests_per_instance, target: 50, min: 1, max: 10, sync_period: 15s, scale_down_stabilization: 0s}\n"
    ))
    assert [e["kind"] for e in result.events if e["kind"] in ("scale_up", "scale_down")] == []
    assert {row["instances.api"] for row in result.timeseries} == {4}
