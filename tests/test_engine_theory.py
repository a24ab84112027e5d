"""The engine agrees with queueing theory.

Each test runs a shipped scenario (with a longer or shorter run where needed) for several
independent replications and checks, against the closed-form answer written out in the test:

- the mean over replications is within 2% of theory, and
- the 95% Student-t confidence interval over replications covers theory.

Seeds are fixed, so the tests are deterministic. The run lengths were chosen from the relative
error of a sojourn-time mean at each utilisation (about 8 million M/M/1 customers for +/-1% at
rho = 0.9, far fewer at lower rho); see docs/architecture.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simulator.analysis import jackson_network, mg1, mm1, mmc, mva
from simulator.analysis.mva import QueueingStation
from simulator.engine.experiment import aggregate, run_variant
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TOLERANCE = 0.02  #: relative distance allowed between a simulated mean and theory


def simulate(name: str, *overrides: str, replications: int = 10):
    loaded = load_scenario(SCENARIOS / name, list(overrides), replications=replications)
    variant = loaded.variants[0]
    results = run_variant(variant, replications)
    return variant.scenario, aggregate(variant, results), results


def assert_agrees(estimate: dict, theory: float, what: str, tolerance: float = TOLERANCE) -> None:
    mean = estimate["mean"]
    assert abs(mean - theory) <= tolerance * theory, f"{what}: simulated {mean:.6g}, theory {theory:.6g} (>{tolerance:.0%} apart)"
    assert estimate["low"] <= theory <= estimate["high"], (
        f"{what}: theory {theory:.6g} outside the 95% CI [{estimate['low']:.6g}, {estimate['high']:.6g}]"
    )


def assert_littles_law(results) -> None:
    """L (time-average requests in flight) = lambda (completions/s) x W (mean sojourn), per run."""
    for result in results:
        system = result.system
        assert system["mean_in_flight"] == pytest.approx(system["littles_law_l"], rel=0.01), f"replication {result.replication}"


def test_mm1_at_utilisation_half():
    # lambda = 50/s, mu = 100/s: W = 1/(mu - lambda) = 20 ms, L = rho/(1-rho) = 1
    _, summary, results = simulate("mm1.yaml", "workload.rate=50/s", "duration=2000s", "warmup=20s")
    theory = mm1(50, 100)
    assert theory.mean_response_time_s == pytest.approx(0.020)
    assert_agrees(summary["overall"]["latency_mean_s"], 0.020, "M/M/1 rho=0.5 W")
    assert_agrees(summary["services"]["server"]["utilisation"], 0.5, "M/M/1 rho=0.5 utilisation")
    assert_agrees(summary["system"]["mean_in_flight"], 1.0, "M/M/1 rho=0.5 L")
    assert_littles_law(results)


def test_mm1_at_utilisation_nine_tenths():
    # lambda = 90/s, mu = 100/s: W = 100 ms, L = 9; p95 of the exponential sojourn = ln(20)/10 s
    _, summary, results = simulate("mm1.yaml", "duration=2400s", "warmup=100s", replications=12)
    assert_agrees(summary["overall"]["latency_mean_s"], 0.100, "M/M/1 rho=0.9 W")
    assert_agrees(summary["services"]["server"]["utilisation"], 0.9, "M/M/1 rho=0.9 utilisation")
    assert summary["overall"]["latency_p95_s"]["mean"] == pytest.approx(math.log(20) / 10, rel=0.04)
    assert_littles_law(results)


def test_mm4_erlang_c():
    # lambda = 320/s, mu = 100/s, c = 4: rho = 0.8; W from Erlang C
    theory = mmc(320, 100, 4)
    _, summary, results = simulate("mmc.yaml", "workload.rate=320/s", "duration=400s", "warmup=20s")
    assert_agrees(summary["overall"]["latency_mean_s"], theory.mean_response_time_s, "M/M/4 W")
    assert_agrees(summary["services"]["server"]["mean_queue_length"], theory.mean_in_queue, "M/M/4 Lq", tolerance=0.04)
    assert_agrees(summary["services"]["server"]["utilisation"], 0.8, "M/M/4 utilisation")
    assert_littles_law(results)


def test_md1_pollaczek_khinchine():
    # lambda = 80/s, D = 10 ms: W = D + rho D / (2 (1 - rho)) = 10 + 20 = 30 ms
    theory = mg1(80, 0.010, 0.0)
    assert theory.mean_response_time_s == pytest.approx(0.030)
    _, summary, results = simulate("mm1.yaml", "workload.rate=80/s", "services.server.service_time=10ms", "duration=1500s", "warmup=20s")
    assert_agrees(summary["overall"]["latency_mean_s"], 0.030, "M/D/1 W")
    assert_littles_law(results)


def test_five_station_tandem_is_a_sum_of_mm1_queues():
    # Burke: each station sees Poisson(100/s); W = sum 1/(mu_i - 100)
    means = [0.005, 0.006, 0.006, 0.007, 0.008]
    theory = sum(mm1(100, 1 / s).mean_response_time_s for s in means)
    assert theory == pytest.approx(1 / 100 + 2 / (1 / 0.006 - 100) + 1 / (1 / 0.007 - 100) + 1 / (125 - 100))
    _, summary, results = simulate("tandem.yaml", "duration=600s", "warmup=20s")
    assert_agrees(summary["overall"]["latency_mean_s"], theory, "tandem W")
    for i, s in enumerate(means, start=1):
        assert summary["services"][f"s{i}"]["utilisation"]["mean"] == pytest.approx(100 * s, rel=0.01)
    assert_littles_law(results)


def test_jackson_network_with_feedback():
    # traffic equations: web = 80 + 0.3 app, app = web + db, db = 0.2 app
    network = jackson_network(
        [80, 0, 0], [[0, 1, 0], [0.3, 0, 0.2], [0, 1, 0]], [100, 250, 1 / 0.015], servers=[2, 1, 1], names=["web", "app", "db"]
    )
    assert list(network.arrival_rates_per_s) == pytest.approx([128, 160, 32])
    _, summary, results = simulate("feedback.yaml", "duration=600s", "warmup=20s")
    assert_agrees(summary["overall"]["latency_mean_s"], network.mean_sojourn_s, "feedback network W")
    for name, rate in zip(["web", "app", "db"], [128, 160, 32]):
        assert summary["services"][name]["throughput_per_s"]["mean"] == pytest.approx(rate, rel=0.01)
    assert_littles_law(results)


def test_closed_network_matches_exact_mva():
    # 40 users, think time 1 s, app (2 cores, 30 ms) then db (20 ms)
    solution = mva([QueueingStation("app", 0.030, servers=2), QueueingStation("db", 0.020)], 40, think_time_s=1.0).at(40)
    _, summary, results = simulate("closed-users.yaml", "duration=1500s", "warmup=30s")
    assert_agrees(summary["overall"]["latency_mean_s"], solution.response_time_s, "closed network R")
    assert_agrees(summary["overall"]["throughput_per_s"], solution.throughput_per_s, "closed network X")
    assert_agrees(summary["services"]["db"]["utilisation"], solution.utilisations["db"], "closed network db utilisation")
    assert_littles_law(results)
