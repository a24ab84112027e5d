"""The engine agrees with queueing theory.

Each test runs a shipped scenario (with a longer or shorter run where needed) for several
independent replications and checks k figures of that run against the closed-form answer written
out in the test. Every figure is checked the same way, as one family per test:

- theory lies inside the Student-t confidence interval of the per-replication values at level
  ``1 - ALPHA / k`` (Bonferroni), so a correct engine fails a test by chance with probability at
  most ``ALPHA`` = 1%, whatever the dependence between the k figures (each interval's coverage is
  nominal to the extent that replication values are close to normal: they are means of long runs);
- that interval's half-width is at most the figure's tolerance (2% unless stated), so the test
  also has power: a figure off by more than its tolerance cannot pass. Run lengths and
  tolerances were sized from a pilot run (10 replications of each test at its earlier length) so
  that the expected half-width is about half the tolerance or less with R = 20 replications; the
  half-width then exceeds the tolerance only if the sample spread is about twice its true value:
  probability below 1e-5 per test (chi-square with 19 degrees of freedom). A tolerance above 2%
  says what an affordable run can promise (rho = 0.9 needs 5%: the earlier 2% bound on 12 runs of
  2400 s, whose 95% interval was +/-3%, failed a correct engine about one seed in five).

Together: at most 1% (plus under 1e-5) false failures per test run. Seeds are fixed, so each run is
deterministic; the probability is over seeds (what changes when the random-stream layout changes).
Little's law is checked per replication: it is a sample-path identity up to edge terms of order
W / T (under 0.01% here), not a statistical check. The run lengths follow from the relative error of a
sojourn-time mean at each utilisation (about 8 million M/M/1 customers for +/-1% at rho = 0.9,
far fewer at lower rho); see docs/architecture.md. The longer tests are marked ``slow`` (CI runs
them: nothing deselects the marker).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import stdtrit

from simulator.analysis import jackson_network, mg1, mm1, mmc, mva
from simulator.analysis.mva import QueueingStation
from simulator.engine.experiment import aggregate, run_variant
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
ALPHA = 0.01  #: probability that a correct engine fails one test (all of its checks together)
TOLERANCE = 0.02  #: relative half-width a figure's interval may have (the precision a test promises)


def simulate(name: str, *overrides: str, replications: int = 20):
    loaded = load_scenario(SCENARIOS / name, list(overrides), replications=replications)
    variant = loaded.variants[0]
    results = run_variant(variant, replications)
    return variant.scenario, aggregate(variant, results), results


def assert_family(checks: list[tuple[str, dict, float, float]], alpha: float = ALPHA) -> None:
    """Check ``(what, estimate, theory, tolerance)`` figures of one run as one family.

    ``estimate`` is an aggregated figure (its per-replication ``values``). Each interval is
    ``mean +/- t(1 - alpha / (2 k), R - 1) * s / sqrt(R)`` (two-sided, Bonferroni over the k checks).
    Every failing figure is reported, with the interval and its half-width relative to theory.
    """
    k = len(checks)
    failures = []
    for what, estimate, theory, tolerance in checks:
        values = np.asarray(estimate["values"], dtype=float)
        n = len(values)
        assert n >= 20, f"{what}: {n} replications; the precision bound was derived for 20"
        mean = float(values.mean())
        half = float(stdtrit(n - 1, 1 - alpha / (2 * k)) * values.std(ddof=1) / math.sqrt(n))
        where = f"{what}: simulated {mean:.6g} +/- {half:.3g} ({half / theory:.2%} of theory {theory:.6g}; {1 - alpha / k:.4%} interval, {n} replications)"
        if not mean - half <= theory <= mean + half:
            failures.append(f"{where}: theory outside the interval")
        if half > tolerance * theory:
            failures.append(f"{where}: half-width above the {tolerance:.0%} the run was sized for")
    assert not failures, "\n".join(failures)


def assert_littles_law(results) -> None:
    """L (time-average requests in flight) = lambda (completions/s) x W (mean sojourn), per run."""
    for result in results:
        system = result.system
        assert system["mean_in_flight"] == pytest.approx(system["littles_law_l"], rel=0.01), f"replication {result.replication}"


def test_mm1_at_utilisation_half():
    """M/M/1 at rho 0.5: W, utilisation and L (3 checks; false failure at most 1%)."""
    # lambda = 50/s, mu = 100/s: W = 1/(mu - lambda) = 20 ms, L = rho/(1-rho) = 1
    _, summary, results = simulate("mm1.yaml", "workload.rate=50/s", "duration=1500s", "warmup=20s")
    theory = mm1(50, 100)
    assert theory.mean_response_time_s == pytest.approx(0.020)
    assert_family([
        ("M/M/1 rho=0.5 W", summary["overall"]["latency_mean_s"], 0.020, TOLERANCE),
        ("M/M/1 rho=0.5 utilisation", summary["services"]["server"]["utilisation"], 0.5, TOLERANCE),
        ("M/M/1 rho=0.5 L", summary["system"]["mean_in_flight"], 1.0, TOLERANCE),
    ])
    assert_littles_law(results)


@pytest.mark.slow
def test_mm1_at_utilisation_nine_tenths():
    """M/M/1 at rho 0.9: W, utilisation and the p95 of the sojourn (3 checks; false failure at most 1%).

    Near saturation a run's mean converges slowly (a 6000 s run of 540,000 customers has a
    relative standard deviation of about 3% in W), so 20 such runs promise W within 5% and the p95
    within 6% (pilot half-widths 2.5% and 3.3%). The p95 is the mean of per-replication p95s, each
    read from an HDR histogram that reports a bucket's highest value (at most 0.1% above the true
    quantile)."""
    # lambda = 90/s, mu = 100/s: W = 100 ms, L = 9; p95 of the exponential sojourn = ln(20)/10 s
    _, summary, results = simulate("mm1.yaml", "duration=6000s", "warmup=100s")
    assert_family([
        ("M/M/1 rho=0.9 W", summary["overall"]["latency_mean_s"], 0.100, 0.05),
        ("M/M/1 rho=0.9 utilisation", summary["services"]["server"]["utilisation"], 0.9, TOLERANCE),
        ("M/M/1 rho=0.9 p95", summary["overall"]["latency_p95_s"], math.log(20) / 10, 0.06),
    ])
    assert_littles_law(results)


@pytest.mark.slow
def test_mm4_erlang_c():
    """M/M/4 at rho 0.8: W, Lq (Erlang C) and utilisation (3 checks; false failure at most 1%).

    W within 2.5% and Lq within 5% (pilot half-widths 1.1% and 2.5% for 20 runs of 800 s)."""
    # lambda = 320/s, mu = 100/s, c = 4: rho = 0.8; W from Erlang C
    theory = mmc(320, 100, 4)
    _, summary, results = simulate("mmc.yaml", "workload.rate=320/s", "duration=800s", "warmup=20s")
    assert_family([
        ("M/M/4 W", summary["overall"]["latency_mean_s"], theory.mean_response_time_s, 0.025),
        ("M/M/4 Lq", summary["services"]["server"]["mean_queue_length"], theory.mean_in_queue, 0.05),
        ("M/M/4 utilisation", summary["services"]["server"]["utilisation"], 0.8, TOLERANCE),
    ])
    assert_littles_law(results)


def test_md1_pollaczek_khinchine():
    """M/D/1 at rho 0.8: W from Pollaczek-Khinchine (1 check; false failure at most 1%)."""
    # lambda = 80/s, D = 10 ms: W = D + rho D / (2 (1 - rho)) = 10 + 20 = 30 ms
    theory = mg1(80, 0.010, 0.0)
    assert theory.mean_response_time_s == pytest.approx(0.030)
    _, summary, results = simulate("mm1.yaml", "workload.rate=80/s", "services.server.service_time=10ms", "duration=1500s", "warmup=20s")
    assert_family([("M/D/1 W", summary["overall"]["latency_mean_s"], 0.030, TOLERANCE)])
    assert_littles_law(results)


@pytest.mark.slow
def test_five_station_tandem_is_a_sum_of_mm1_queues():
    """Tandem of 5 M/M/1 stations: W and each station's utilisation (6 checks; false failure at most 1%).

    W within 2.5%, utilisations within 1% (pilot half-widths 1.3% and at most 0.4% for 20 runs of 1200 s)."""
    # Burke: each station sees Poisson(100/s); W = sum 1/(mu_i - 100)
    means = [0.005, 0.006, 0.006, 0.007, 0.008]
    theory = sum(mm1(100, 1 / s).mean_response_time_s for s in means)
    assert theory == pytest.approx(1 / 100 + 2 / (1 / 0.006 - 100) + 1 / (1 / 0.007 - 100) + 1 / (125 - 100))
    _, summary, results = simulate("tandem.yaml", "duration=1200s", "warmup=20s")
    assert_family(
        [("tandem W", summary["overall"]["latency_mean_s"], theory, 0.025)]
        + [(f"tandem s{i} utilisation", summary["services"][f"s{i}"]["utilisation"], 100 * s, 0.01) for i, s in enumerate(means, start=1)]
    )
    assert_littles_law(results)


@pytest.mark.slow
def test_jackson_network_with_feedback():
    """Jackson network with feedback: W and each station's throughput (4 checks; false failure at most 1%)."""
    # traffic equations: web = 80 + 0.3 app, app = web + db, db = 0.2 app
    network = jackson_network(
        [80, 0, 0], [[0, 1, 0], [0.3, 0, 0.2], [0, 1, 0]], [100, 250, 1 / 0.015], servers=[2, 1, 1], names=["web", "app", "db"]
    )
    assert list(network.arrival_rates_per_s) == pytest.approx([128, 160, 32])
    _, summary, results = simulate("feedback.yaml", "duration=900s", "warmup=20s")
    assert_family(
        [("feedback network W", summary["overall"]["latency_mean_s"], network.mean_sojourn_s, TOLERANCE)]
        + [(f"feedback {name} throughput", summary["services"][name]["throughput_per_s"], rate, 0.01) for name, rate in zip(["web", "app", "db"], [128, 160, 32])]
    )
    assert_littles_law(results)


def test_closed_network_matches_exact_mva():
    """Closed network against exact MVA: R, X and the db utilisation (3 checks; false failure at most 1%)."""
    # 40 users, think time 1 s, app (2 cores, 30 ms) then db (20 ms)
    solution = mva([QueueingStation("app", 0.030, servers=2), QueueingStation("db", 0.020)], 40, think_time_s=1.0).at(40)
    _, summary, results = simulate("closed-users.yaml", "duration=1500s", "warmup=30s")
    assert_family([
        ("closed network R", summary["overall"]["latency_mean_s"], solution.response_time_s, TOLERANCE),
        ("closed network X", summary["overall"]["throughput_per_s"], solution.throughput_per_s, TOLERANCE),
        ("closed network db utilisation", summary["services"]["db"]["utilisation"], solution.utilisations["db"], TOLERANCE),
    ])
    assert_littles_law(results)
