"""Shared host CPU (``hosts: {cpu: shared}``) agrees with processor-sharing theory.

Exact traces first (a few jobs whose completion times follow by hand from the sharing rule), then
three statistical checks against closed forms from :mod:`simulator.analysis`:

- N equal tenants on c cores with exponential demands: the number of jobs on the host follows the
  M/M/c birth-death chain, so the mean response time is M/M/c's;
- one core shared by processor sharing is insensitive to the demand distribution: constant demands
  give the M/M/1 mean;
- a tenant capped by a 0.5-core quota on a host with spare cores is an M/M/1 at half speed, and
  the tenant beside it is unaffected.

Statistical rule: each check runs R independent replications and asserts that the Student-t
interval of the replication means covers theory at level 1 - 0.01/4 (Bonferroni over the four
compared means), so a correct engine fails this file by chance with probability at most 1%
(replication means of runs this long are close to normal). Each check also asserts that its
interval is narrower than 4% of theory, so the test can tell a wrong model from noise. Seeds are
fixed: the outcome is deterministic.
"""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace

import pytest
import simpy
import yaml
from scipy import stats

from simulator.analysis import mm1, mmc
from simulator.engine.events import NORMAL, Wakeup
from simulator.errors import ScenarioError
from simulator.platforms.host_cpu import HostProcessor
from simulator.runner import run_scenario
from simulator.scenario import load_scenario

FAMILY_ALPHA = 0.01  #: Chance that a correct engine fails this file.
COMPARISONS = 4  #: Means compared against theory in this file (Bonferroni).
PRECISION = 0.04  #: Largest interval half-width allowed, relative to theory.


# --- exact traces --------------------------------------------------------------------------------


def trace(cores: int, jobs: list[tuple[str, float | None, float]]) -> list[tuple[str, float]]:
    """Submit ``(tenant, quota, demand_s)`` jobs at t=0 (one tenant per name); return (tenant, end time) in order."""
    env = simpy.Environment()
    host = HostProcessor(env, cores, warmup_s=0.0)
    tenants: dict = {}
    log: list[tuple[str, float]] = []
    for name, quota, demand_s in jobs:
        tenant = tenants.setdefault(name, host.tenant(name, quota=quota))
        host.submit(tenant, Wakeup(lambda n: log.append((n, round(env.now, 9))), name), NORMAL, demand_s)
    env.run()
    return log


def test_two_tenants_on_one_core_share_it_equally_then_the_survivor_gets_it_all():
    # both at 0.5 core: a's 1 s is done at t=2; b has 1 s left at full speed: t=3
    assert trace(1, [("a", None, 1.0), ("b", None, 2.0)]) == [("a", 2.0), ("b", 3.0)]


def test_a_quota_caps_a_tenant_and_the_others_take_what_it_leaves():
    # 2 cores: a is capped at 0.5 (1 s of work ends at t=2); b's two jobs share the other 1.5 cores
    # (0.75 each: t=4/3)
    assert trace(2, [("a", 0.5, 1.0), ("b", None, 1.0), ("b", None, 1.0)]) == [("b", 1.333333333), ("b", 1.333333333), ("a", 2.0)]


def test_no_job_gets_more_than_one_core():
    # one job alone on a 4-core host still takes its demand in time
    assert trace(4, [("a", None, 0.25)]) == [("a", 0.25)]


def test_weights_split_a_contended_core():
    env = simpy.Environment()
    host = HostProcessor(env, 1, warmup_s=0.0)
    heavy, light = host.tenant("heavy", weight=3.0), host.tenant("light", weight=1.0)
    log: list = []
    host.submit(heavy, Wakeup(lambda n: log.append((n, env.now)), "heavy"), NORMAL, 0.75)
    host.submit(light, Wakeup(lambda n: log.append((n, env.now)), "light"), NORMAL, 0.75)
    env.run()
    # heavy runs at 0.75 core: done at t=1, light has had 0.25 and finishes its 0.5 left at t=1.5
    assert log == [("heavy", pytest.approx(1.0)), ("light", pytest.approx(1.5))]


# --- against theory ------------------------------------------------------------------------------


def simulate(tmp_path, scenario: dict, replications: int) -> dict:
    """Run through the runner (as `archsim run` does); returns the variant's summary block."""
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    summary = run_scenario(load_scenario(path, replications=replications), tmp_path / "run")
    return next(iter(summary["variants"].values()))


def host0(variant: dict) -> dict:
    """Mean over replications of the first host's figures."""
    block = variant["extras"]["host_cpu"]["host0"]
    return {"utilisation": block["utilisation"]["mean"], "cores_used": {k: v["mean"] for k, v in block["cores_used"].items()}}


def assert_covers(values: list[float], theory: float, what: str) -> None:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(1 - FAMILY_ALPHA / COMPARISONS / 2, n - 1) * sd / math.sqrt(n)
    assert abs(mean - theory) <= half, f"{what}: simulated {mean:.6g} ± {half:.3g}, theory {theory:.6g}"
    assert half <= PRECISION * theory, f"{what}: interval ±{half:.3g} too wide to judge theory {theory:.6g}"


def base(duration_s: float, seed: int) -> dict:
    return {"name": "host-cpu", "seed": seed, "duration": f"{duration_s:g}s", "warmup": "10s"}


@pytest.mark.slow
def test_equal_tenants_on_c_cores_have_the_mm_c_mean_response_time(tmp_path):
    # 3 services, one instance each, on one 2-core host; each instance may run 2 jobs at once, so
    # the host always runs min(n, 2) jobs at full speed: M/M/2 with lambda = 150/s, mu = 100/s
    scenario = base(600, 5) | {
        "workload": {"rate": "150/s", "mix": {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}},
        "classes": {name: {"calls": [f"s{name}"]} for name in "abc"},
        "services": {f"s{name}": {"cores": 2, "service_time": "exp(10ms)"} for name in "abc"},
        "hosts": {"cores": 2, "cpu": "shared"},
    }
    variant = simulate(tmp_path, scenario, replications=8)
    theory = mmc(150, 100, 2).mean_response_time_s
    assert theory == pytest.approx(0.0228571, rel=1e-5)
    assert_covers(variant["overall"]["latency_mean_s"]["values"], theory, "3 tenants on 2 cores: W")
    assert host0(variant)["utilisation"] == pytest.approx(0.75, abs=0.01)


def test_one_core_shared_by_processor_sharing_is_insensitive_to_the_demand_distribution(tmp_path):
    # constant 10 ms demands, up to 16 at once on one core (PS): W = 1/(mu - lambda) = 20 ms at 50/s
    scenario = base(200, 6) | {
        "workload": {"rate": "50/s"},
        "classes": {"job": {"calls": ["server"]}},
        "services": {"server": {"cores": 16, "service_time": "const(10ms)"}},
        "hosts": {"cores": 1, "cpu": "shared"},
    }
    variant = simulate(tmp_path, scenario, replications=8)
    theory = mm1(50, 100).mean_response_time_s
    assert theory == pytest.approx(0.020)
    assert_covers(variant["overall"]["latency_mean_s"]["values"], theory, "M/D/1-PS: W")


@pytest.mark.slow
def test_a_tenant_capped_at_half_a_core_is_an_mm1_at_half_speed(tmp_path):
    # capped: 30/s of exp(10 ms) at 0.5 core is M/M/1 with mu = 50/s: W = 50 ms. Beside it, 20/s
    # on 2 threads never needs more than the 2.5 cores left on a 3-core host: M/M/2 with mu = 100/s
    scenario = base(1200, 8) | {
        "workload": {"rate": "50/s", "mix": {"capped": 0.6, "free": 0.4}},
        "classes": {"capped": {"calls": ["small"]}, "free": {"calls": ["big"]}},
        "services": {"small": {"cores": 1, "service_time": "exp(10ms)"}, "big": {"cores": 2, "service_time": "exp(10ms)"}},
        "hosts": {"cores": 3, "cpu": "shared", "cpu_limits": {"small": 0.5}},
    }
    variant = simulate(tmp_path, scenario, replications=8)
    assert mm1(30, 50).mean_response_time_s == pytest.approx(0.050)
    assert_covers(variant["classes"]["capped"]["latency_mean_s"]["values"], mm1(30, 50).mean_response_time_s, "capped tenant: W")
    assert_covers(variant["classes"]["free"]["latency_mean_s"]["values"], mmc(20, 100, 2).mean_response_time_s, "free tenant: W")
    assert host0(variant)["cores_used"]["small[0]"] == pytest.approx(0.30, abs=0.01)


def test_the_load_generator_takes_its_cpu_from_the_same_host(tmp_path):
    # 0.5 core of generator work (5 ms per request at 100/s), capped at its one process
    scenario = base(60, 9) | {
        "workload": {"rate": "100/s"},
        "classes": {"job": {"calls": ["server"]}},
        "services": {"server": {"cores": 2, "service_time": "exp(5ms)"}},
        "hosts": {"cores": 2, "cpu": "shared", "load_generator": {"cpu_per_request": "5ms"}},
    }
    used = host0(simulate(tmp_path, scenario, replications=1))["cores_used"]
    assert used["load_generator"] == pytest.approx(0.5, abs=0.03)
    assert used["server[0]"] == pytest.approx(0.5, abs=0.03)


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("hosts, expected", [
    ({"cpu_limits": {"api": 0.5}}, "hosts.cpu_limits needs `cpu: shared`"),
    ({"cpu": "shared", "cpu_limits": {"nope": 0.5}}, "hosts.cpu_limits: unknown service 'nope'"),
    ({"cpu": "shared", "cpu_limits": {"api": 0}}, "greater than 0"),
    ({"cpu": "shared", "initial": 0}, "`cpu: shared` needs `initial` of at least 1"),
    ({"cpu": "shared", "load_generator": {"processes": 1}}, "cpu_per_request"),
])
def test_bad_shared_cpu_fields_are_one_line(tmp_path, hosts, expected):
    scenario = base(10, 1) | {"workload": {"rate": "10/s"}, "classes": {"a": {"calls": ["api"]}},
                              "services": {"api": {"service_time": "exp(10ms)"}}, "hosts": hosts}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "\n" not in str(caught.value) and expected in str(caught.value)
    run = subprocess.run([sys.executable, "-m", "simulator.cli", "validate", str(path)], capture_output=True, text=True)
    assert run.returncode == 2 and expected in run.stderr


# --- the calibrated scenario ------------------------------------------------------------------------


def test_a_calibration_from_containers_puts_every_tier_and_the_generator_on_the_machines_cores(tmp_path):
    from simulator.calibration.estimate import Fitted
    from simulator.calibration.observations import ClassFigures, Observation
    from simulator.calibration.parameters import ModelParameters
    from simulator.calibration.structure import GENERATOR_TIER, Tier, app_and_database, shared_host
    from simulator.calibration.writer import ScenarioSettings, render

    structure = app_and_database("monolith", {"browse": 1}, app=Tier("monolith", 1, 1, 256, 1.0), database=Tier("db", 1, 1, 8, 0.5))
    known = Fitted(0.002, 0.0001, "test")
    parameters = ModelParameters({("monolith", "browse"): known, ("db", "query"): known}, {}, Fitted(0.0005, None, "test"))
    # the generator used 0.04 and 0.08 cores at 100/s and 200/s: 0.4 ms per request
    runs = [Observation("20%", 0, rate, 60.0, {"browse": ClassFigures(rate, 0.01)}, {GENERATOR_TIER: cores})
            for rate, cores in ((100.0, 0.04), (200.0, 0.08))]
    host = shared_host({"host_cores": 2}, runs)
    assert (host.cores, host.generator_cpu_per_request_s) == (2, pytest.approx(0.0004))
    assert host.bound_per_s(0.004) == pytest.approx(2 / 0.0044)
    # the estimators' stretch when the others keep 1 of 2 cores busy: 1 + C(2, 1) / (2 (1 - 0.5)) = 4/3
    assert host.stretch(1.0) == pytest.approx(4 / 3) and host.stretch(0.0) == 1.0
    path = tmp_path / "calibrated.yaml"
    path.write_text(render(replace(structure, host=host), parameters,
                           ScenarioSettings("c", 50.0, {"browse": 1.0}, duration_s=20, warmup_s=5, replications=1)))
    hosts = load_scenario(path).base.hosts
    assert (hosts.cores, hosts.cpu, hosts.cpu_limits) == (2, "shared", {"monolith": 1.0, "db": 0.5})
    assert hosts.load_generator.cpu_per_request_s == pytest.approx(0.0004)
    used = host0(simulate(tmp_path, yaml.safe_load(path.read_text()), replications=1))["cores_used"]
    # 50/s x 2 ms at each tier, 50/s x 0.4 ms at the generator
    assert used == {"monolith[0]": pytest.approx(0.1, abs=0.02), "db[0]": pytest.approx(0.1, abs=0.02), "load_generator": pytest.approx(0.02, abs=0.005)}
