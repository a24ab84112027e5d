"""With a per-request CPU header, each class's demand is its reports' mean; the response-time estimator cross-checks it.

A known one-service model (the worked example's: one core, ``light`` 4 ms and ``heavy`` 12 ms of
CPU with CV 0.05, a 0.7/0.3 mix, 0.2 ms per one-way hop) is simulated by archsim at 20%, 50% and
80% of its saturation, two seeds each, 60 s per run; per-request CPU reports are drawn from the
same known demands (1,500 per class, as a server's header would give them), and the tier's CPU
counter is left out (a header source has none). The calibration must
take each demand from the reports within 5% (the reports' standard error is 0.05 / sqrt(1500),
0.13%, so a 5% miss is a fault), say so in its source, fit the per-hop cost around them, and
cross-check every demand against the response-time estimator fitted freely.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.calibration.estimate import Fitted
from simulator.calibration.fit import calibrate
from simulator.calibration.parameters import ModelParameters
from simulator.calibration.structure import Structure, Tier
from simulator.calibration.synthetic import cpu_reports, simulate_levels

DEMANDS = {("app", "light"): 4e-3, ("app", "heavy"): 12e-3}
CV = 0.05
HOP_S = 0.2e-3
MIX = {"light": 0.7, "heavy": 0.3}
SATURATION_PER_S = 1.0 / (0.7 * 4e-3 + 0.3 * 12e-3)  #: 156.25/s


def structure() -> Structure:
    return Structure("cpu-server", {"app": Tier("app", 1, 1, 64)}, {c: {("app", c): 1} for c in MIX}, {c: 1 for c in MIX}, "app")


def truth() -> ModelParameters:
    return ModelParameters({op: Fitted(v, 0.0, "truth") for op, v in DEMANDS.items()},
                           {op: Fitted(CV, 0.0, "truth", "ratio") for op in DEMANDS}, Fitted(HOP_S, 0.0, "truth"))


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    rates = {f"{p}%": p / 100 * SATURATION_PER_S for p in (20, 50, 80)}
    runs = simulate_levels(structure(), truth(), MIX, rates, tmp_path_factory.mktemp("reports"), repetitions=2, duration_s=60.0)
    runs = [replace(o, tier_cpu_cores={}) for o in runs]  # the header is the only CPU source
    return calibrate(structure(), runs, cpu_reports(structure(), truth(), requests=1500), demands_from_reports=True)


def test_each_demand_is_its_reports_mean_within_5_percent(calibration):
    for op, known_s in DEMANDS.items():
        fitted = calibration.parameters.demands[op]
        assert fitted.value == pytest.approx(known_s, rel=0.05), op
        assert "per-request CPU reports" in fitted.source
        assert fitted.std_error < 0.005 * known_s  # 1,500 reports of CV 0.05: about 0.13%
        assert calibration.parameters.cv[op].value == pytest.approx(CV, rel=0.1)


def test_the_hop_cost_is_fitted_around_the_reported_demands(calibration):
    assert calibration.parameters.hop_s.value == pytest.approx(HOP_S, abs=0.1e-3)
    assert "held at their measured CPU" in calibration.parameters.hop_s.source


def test_the_response_time_estimator_fitted_freely_is_the_cross_check(calibration):
    checks = {c.quantity: c for c in calibration.cross_checks}
    assert len(checks) == len(calibration.cross_checks) == 3
    assert set(checks) == {"app: CPU per request (mix-weighted)", "app.light: demand", "app.heavy: demand"}
    for op in ("light", "heavy"):
        check = checks[f"app.{op}: demand"]
        assert "per-request CPU reports" in check.primary.source
        assert check.other.source.startswith("response-time estimator over 6 runs")
    total = checks["app: CPU per request (mix-weighted)"]
    assert total.primary.value == pytest.approx(1 / SATURATION_PER_S, rel=0.05)
    assert total.other.source.startswith("response-time estimator")


def test_without_the_option_the_response_time_estimator_stays_the_model(calibration, tmp_path):
    rates = {f"{p}%": p / 100 * SATURATION_PER_S for p in (30, 70)}
    runs = simulate_levels(structure(), truth(), MIX, rates, tmp_path, repetitions=1, duration_s=30.0)
    default = calibrate(structure(), runs, cpu_reports(structure(), truth(), requests=200))
    assert all(f.source.startswith("response-time estimator") for f in default.parameters.demands.values())
    assert {c.quantity for c in default.cross_checks} >= {"app.light: demand", "app.heavy: demand"}


def test_a_loopback_target_shares_the_measuring_machine_with_the_load_generator_in_the_calibrated_file(tmp_path):
    from dataclasses import replace as with_host

    import yaml
    from test_calibration_user import SCENARIO

    from simulator.calibration.observations import ClassFigures, Observation
    from simulator.calibration.structure import GENERATOR_TIER, shared_host
    from simulator.calibration.user import render_user_scenario
    from simulator.scenario import load_scenario

    # two runs whose generator used 0.03 and 0.06 cores at 30/s and 60/s: 1 ms per request
    runs = [Observation(f"{r}/s", 1, r, 10.0, {"light": ClassFigures(r, 0.01)}, {GENERATOR_TIER: r * 1e-3}) for r in (30.0, 60.0)]
    host = shared_host({"host_cores": 2}, runs)
    parameters = ModelParameters({op: Fitted(v, 1e-5, "per-request CPU reports") for op, v in DEMANDS.items()},
                                 {op: Fitted(CV, 0.01, "reports", "ratio") for op in DEMANDS}, Fitted(HOP_S, 1e-5, "estimator"))
    text = render_user_scenario(SCENARIO, with_host(structure(), host=host), parameters, ["header"], 50.0)
    hosts = yaml.safe_load(text)["hosts"]
    assert hosts == {"cores": 2, "cpu": "shared", "load_generator": {"cpu_per_request": "1ms"}}
    assert "load generator 1 ms" in text and "the measuring machine's os.cpu_count()" in text  # each number says where it came from
    (tmp_path / "cal.yaml").write_text(text)
    loaded = load_scenario(tmp_path / "cal.yaml")
    assert loaded.base.hosts.load_generator.cpu_per_request_s == pytest.approx(1e-3)
