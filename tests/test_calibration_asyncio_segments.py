"""Measured in containers, the fit knows what the reference services are: asyncio, with reports that miss the framework.

A known two-tier model, simulated by archsim as the calibrated scenario would be written for the
reference services: an ``app`` tier (one core) whose ``heavy`` operation makes 6 database round
trips and takes the core again after each answer (7 equal CPU segments, as asyncio resumes after
every await), a ``light`` one with one round trip, and a ``db`` tier of 4 cores; the client's
round trip costs 1 ms each way, a hop between tiers 0.1 ms. The per-request CPU reports are drawn
from 80% of the true demands: like the services' ``X-CPU-Time-Ms``, they time the request's code
and miss the framework's share, which only the tier's CPU counter holds.

The calibration, told that the measurements came from containers (``interleaved``,
``scale_reports``), must recover every demand within 5%, the framework's scale (1.25) within 5%,
and the client's cost and the hop between tiers within three standard errors, the client's known
to 15%: both costs, and the database's demand, grow with the same round trips, and only the
database's CPU counter tells the demand apart, which is why the database's demand is taken from it.
Runs: 20%, 50%, 80% of saturation, two seeds each, 60 s.
"""

from __future__ import annotations

import pytest

from simulator.calibration.estimate import Fitted
from simulator.calibration.fit import calibrate
from simulator.calibration.parameters import ModelParameters
from simulator.calibration.structure import Tier, from_calls
from simulator.calibration.synthetic import cpu_reports, simulate_levels
from simulator.calibration.writer import ScenarioSettings, render

DEMANDS = {("app", "light"): 2e-3, ("app", "heavy"): 6e-3, ("db", "query"): 0.3e-3}
CV = 0.3
HOP_S = 0.1e-3
CLIENT_S = 1e-3
REPORTED_SHARE = 0.8  #: The reports see 80% of the app's CPU: the framework's 20% is outside the request's code.
MIX = {"light": 0.6, "heavy": 0.4}
DB_CALLS = 6
SATURATION_PER_S = 1.0 / (0.6 * 2e-3 + 0.4 * 6e-3)  #: The app tier's bound: 277.8/s.


def structure():
    tiers = {"app": Tier("app", 1, 1, 256), "db": Tier("db", 1, 4, 8)}
    return from_calls("asyncio-shop", tiers, {"light": (("app", "light"),), "heavy": (("app", "heavy"),)},
                      {("app", "light"): (("db", "query"),), ("app", "heavy"): (("db", "query"),) * DB_CALLS},
                      reported={c: ("app", c) for c in MIX})


def truth(share: float = 1.0) -> ModelParameters:
    demands = {op: Fitted(v * (share if op[0] == "app" else 1.0), 0.0, "truth") for op, v in DEMANDS.items()}
    return ModelParameters(demands, {op: Fitted(CV, 0.0, "truth", "ratio") for op in DEMANDS}, Fitted(HOP_S, 0.0, "truth"),
                           client_hop_s=Fitted(CLIENT_S, 0.0, "truth"), interleaved=True)


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    rates = {f"{p}%": p / 100 * SATURATION_PER_S for p in (20, 50, 80)}
    runs = simulate_levels(structure(), truth(), MIX, rates, tmp_path_factory.mktemp("asyncio"), repetitions=2, duration_s=60.0)
    reports = cpu_reports(structure(), truth(REPORTED_SHARE), requests=3000)
    return calibrate(structure(), runs, reports, interleaved=True, scale_reports=True)


def test_the_written_model_takes_the_core_again_after_every_call():
    text = render(structure(), truth(), ScenarioSettings("t", 10.0, MIX))
    heavy = text.split("      heavy:")[1].split("\n  db:")[0]  # the app's heavy operation, up to the next service
    assert heavy.count("db.query") == DB_CALLS and heavy.count("{work:") == DB_CALLS
    assert "the first of equal segments" in heavy
    assert "client_latency: const(1ms)" in text and "latency: const(0.1ms)" in text


def test_every_demand_is_recovered_within_5_percent(calibration):
    for op, known_s in DEMANDS.items():
        fitted = calibration.parameters.demands[op]
        assert fitted.value == pytest.approx(known_s, rel=0.05), (op, fitted.describe())


def test_the_reports_are_scaled_by_the_framework_share_the_cpu_counter_shows(calibration):
    scale = calibration.report_scales["app"]
    assert scale.value == pytest.approx(1 / REPORTED_SHARE, rel=0.05)
    assert scale.std_error < 0.02 * scale.value
    for op in (("app", "light"), ("app", "heavy")):
        assert "scaled to the container's CPU per request" in calibration.parameters.demands[op].source
    assert "db" not in calibration.report_scales  # no reports: the database's demand comes from its CPU counter


def test_the_database_demand_is_its_containers_cpu_per_query(calibration):
    """No reports for the database: its demand is the service demand law on its CPU counter (the
    regression's CPU per visit), not left to the latencies; the free fit is its cross-check."""
    fitted = calibration.parameters.demands[("db", "query")]
    assert "service demand law" in fitted.source
    assert fitted.value == pytest.approx(DEMANDS[("db", "query")], rel=0.02), fitted.describe()
    assert calibration.utilisation_tiers == {"db"}
    check = next(c for c in calibration.cross_checks if c.quantity == "db.query: demand")
    assert check.other is calibration.response_time.demands[("db", "query")]


def test_the_client_cost_is_told_apart_from_the_hop_between_tiers(calibration):
    client, hop = calibration.parameters.client_hop_s, calibration.parameters.hop_s
    assert client is not None
    assert abs(client.value - CLIENT_S) <= 3 * client.std_error, client.describe()
    assert client.std_error < 0.15 * CLIENT_S
    assert abs(hop.value - HOP_S) <= 3 * hop.std_error, hop.describe()


def test_without_the_resumptions_the_same_runs_fit_worse(calibration, tmp_path):
    """The one-wait model cannot explain ``heavy``'s growth with load: its residuals are larger."""
    rates = {f"{p}%": p / 100 * SATURATION_PER_S for p in (20, 50, 80)}
    runs = simulate_levels(structure(), truth(), MIX, rates, tmp_path, repetitions=1, duration_s=60.0)
    reports = cpu_reports(structure(), truth(REPORTED_SHARE), requests=3000)
    one_wait = calibrate(structure(), runs, reports, interleaved=False, scale_reports=True)
    segments = calibrate(structure(), runs, reports, interleaved=True, scale_reports=True)
    assert segments.response_time.rms_relative_residual < 0.5 * one_wait.response_time.rms_relative_residual
