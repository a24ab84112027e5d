"""Calibration fitting recovers known parameters from measurements the simulator itself produced.

A two-tier shop model (the monolith's structure: one application core, one database core, the
reference monolith's database round trips per class) with known demands, shapes and per-hop cost
is simulated by archsim at 20%, 50% and 80% of its saturation, two seeds each, 120 s per run. The
estimators must recover every demand and the hop cost within 5%. At these run lengths the
response-time estimator's standard errors are 1-3% of the values and its errors against the truth
were at most 2.1% when written, so a 5% miss is a fault, not chance (>= 2 standard errors for
every parameter; seeds are fixed, so the outcome is deterministic).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.calibration.estimate import Fitted
from simulator.calibration.fit import calibrate
from simulator.calibration.parameters import ModelParameters
from simulator.calibration.regression import regress_tier
from simulator.calibration.response_time import fit_response_time, waiting_time_s
from simulator.calibration.shape import fit_shape
from simulator.calibration.structure import Tier, app_and_database, shop_monolith_queries
from simulator.calibration.synthetic import cpu_reports, simulate_levels

MIX = {"browse": 0.5, "add_to_cart": 0.25, "place_order": 0.1, "order_status": 0.15}
DEMANDS = {("monolith", "browse"): 1.0e-3, ("monolith", "add_to_cart"): 1.1e-3, ("monolith", "place_order"): 5.5e-3,
           ("monolith", "order_status"): 0.6e-3, ("db", "query"): 0.12e-3}
CVS = {("monolith", "browse"): 0.15, ("monolith", "add_to_cart"): 0.2, ("monolith", "place_order"): 0.1,
       ("monolith", "order_status"): 0.3, ("db", "query"): 1.0}
HOP_S = 0.15e-3


def structure():
    return app_and_database("monolith", shop_monolith_queries(MIX), app=Tier("monolith", 1, 1, 256, 1.0),
                            database=Tier("db", 1, 1, 8, 1.0))


def truth() -> ModelParameters:
    return ModelParameters({k: Fitted(v, 0.0, "truth") for k, v in DEMANDS.items()},
                           {k: Fitted(v, 0.0, "truth", "ratio") for k, v in CVS.items()}, Fitted(HOP_S, 0.0, "truth"))


def saturation_per_s() -> float:
    queries = shop_monolith_queries(MIX)
    app = sum(MIX[c] * DEMANDS[("monolith", c)] for c in MIX)
    db = sum(MIX[c] * queries[c] * DEMANDS[("db", "query")] for c in MIX)
    return 1.0 / max(app, db)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    rates = {f"{p}%": p / 100 * saturation_per_s() for p in (20, 50, 80)}
    return simulate_levels(structure(), truth(), MIX, rates, tmp_path_factory.mktemp("synthetic"), repetitions=2, duration_s=120.0)


def within(fitted: float, true: float, tolerance: float = 0.05) -> bool:
    return abs(fitted / true - 1.0) <= tolerance


def test_the_response_time_estimator_recovers_every_demand_and_the_hop_cost_within_5_percent(runs):
    fit = fit_response_time(structure(), runs, cv=CVS)
    errors = {op: fit.demands[op].value / DEMANDS[op] - 1 for op in DEMANDS}
    assert all(abs(e) <= 0.05 for e in errors.values()), errors
    assert within(fit.hop_s.value, HOP_S), fit.hop_s
    for op, fitted in fit.demands.items():  # the standard errors are honest: the truth lies within 3 of them
        assert fitted.std_error is not None and 0 < fitted.std_error < 0.05 * fitted.value
        assert abs(fitted.value - DEMANDS[op]) <= 3 * fitted.std_error + 0.01 * DEMANDS[op], (op, fitted)


def test_utilisation_regression_recovers_the_database_demand_and_the_mix_weighted_total(runs):
    db = regress_tier(structure(), "db", runs)
    assert within(db.demands["query"].value, DEMANDS[("db", "query")])
    app = regress_tier(structure(), "monolith", runs)
    mixed = sum(MIX[c] * DEMANDS[("monolith", c)] for c in MIX)
    assert within(app.per_request.value, mixed)
    # One mix: the per-class throughputs are proportional, so the per-class split is not identified, and it says so.
    assert not app.split_identified


def test_utilisation_regression_splits_per_class_demands_when_the_mix_varies(tmp_path):
    mixes = [{c: (0.55 if c == emphasised else 0.15) for c in MIX} for emphasised in MIX]
    runs = []
    for index, mix in enumerate(mixes):
        levels = {f"mix{index}-30%": 0.3 * saturation_per_s(), f"mix{index}-60%": 0.6 * saturation_per_s()}  # two rates: the idle intercept is identified
        runs += simulate_levels(structure(), truth(), mix, levels, tmp_path / f"m{index}", repetitions=1, duration_s=60.0)
    app = regress_tier(structure(), "monolith", runs)
    assert app.split_identified
    # Per-class regression is far less precise than the response-time estimator (Kraft et al. 2009):
    # each estimate must lie within 3 of its own bootstrap standard errors of the truth, and the
    # mix-weighted total within 5%.
    for c in MIX:
        fitted = app.demands[c]
        assert abs(fitted.value - DEMANDS[("monolith", c)]) <= 3 * fitted.std_error, (c, fitted)
    mixed = sum(MIX[c] * app.demands[c].value for c in MIX)
    assert within(mixed, sum(MIX[c] * DEMANDS[("monolith", c)] for c in MIX))


def test_the_demand_shape_is_fitted_from_per_request_reports_not_assumed():
    [samples] = cpu_reports(structure(), truth(), requests=4000)
    for c in MIX:
        shape = fit_shape(samples.by_class[c], what=c)
        true_cv = CVS[("monolith", c)]
        assert abs(shape.cv.value - true_cv) <= 0.1 * true_cv, (c, shape.cv)
        assert within(shape.mean_s.value, DEMANDS[("monolith", c)], 0.02)
        assert shape.cv.std_error < 0.05 * true_cv


def test_calibrate_uses_the_reported_shapes_cross_checks_every_tier_and_predicts_saturation(runs):
    result = calibrate(structure(), runs, cpu_reports(structure(), truth(), requests=4000))
    assert abs(result.parameters.cv[("monolith", "browse")].value - 0.15) < 0.015
    assert result.parameters.cv[("db", "query")].std_error is None  # assumed, and said so
    assert "assumed" in result.parameters.cv[("db", "query")].source
    quantities = {check.quantity for check in result.cross_checks}
    assert {"monolith: CPU per request (mix-weighted)", "db: CPU per request (mix-weighted)", "monolith.browse: demand"} <= quantities
    assert all(check.agrees is not False for check in result.cross_checks), [(c.quantity, c.relative_difference) for c in result.cross_checks]
    assert within(result.saturation_per_s(), saturation_per_s(), 0.03)


def test_the_waiting_time_is_pollaczek_khinchine_for_one_core_and_erlang_c_for_exponential_cores():
    # M/D/1 at rho 0.5 with D = 1 ms: W = rho D / (2 (1 - rho)) = 0.5 ms
    assert math.isclose(waiting_time_s(500.0, 1e-3, 1e-6, 1), 0.5e-3)
    # M/M/2 at rho 0.5, mean 1 ms: C(2, 1) = 1/3, W = C / (c mu - lambda) = (1/3) / (2000 - 1000)
    assert math.isclose(waiting_time_s(1000.0, 1e-3, 2e-6, 2), (1 / 3) / 1000.0)
    assert np.isfinite(waiting_time_s(2000.0, 1e-3, 2e-6, 1))  # capped, never infinite while solving
