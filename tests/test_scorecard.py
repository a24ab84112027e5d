"""Scorecard: the stars follow from the numbers, relative to the variants compared, and sit beside
Richards & Ford's published ratings."""

from __future__ import annotations

import pytest

from simulator.charts import load_runs
from simulator.results.rundata import Estimate
from simulator.scorecard import Finding, build_scorecard
from simulator.scorecard.published import RATINGS, published_stars
from simulator.scorecard.stars import positions, to_stars

from test_charts_support import styles_run, sweep_run


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return build_scorecard(load_runs(styles_run(tmp_path_factory.getbasetemp())))


def stars(card, key):
    return next(ch for ch in card.characteristics if ch.key == key).stars


def test_lowest_p95_gets_the_most_performance_stars(tmp_path_factory):
    variants = load_runs(sweep_run(tmp_path_factory.getbasetemp()))
    card = build_scorecard(variants)
    p95 = {v.label: v.get("overall.latency_p95_s").mean for v in variants}
    performance = stars(card, "performance")
    fastest, slowest = min(p95, key=p95.get), max(p95, key=p95.get)
    assert performance[fastest] == max(performance.values())
    assert performance[slowest] == 1  # load-200 is saturated: seconds, not milliseconds
    assert performance[fastest] > performance[slowest]


def test_cheapest_variant_gets_five_cost_stars_and_the_dearest_one(card):
    # $2, $6, $4 per million: on a log scale $4 sits 37% of the way from $6 to $2
    assert stars(card, "cost") == {"monolith": 5, "microservices": 1, "event-driven": 2}


def test_every_characteristic_is_measured_when_the_runs_carry_the_extras(card):
    assert all(ch.measured for ch in card.characteristics)
    assert stars(card, "elasticity")["microservices"] == 5  # 2 s to recover against 12 s
    assert stars(card, "fault_tolerance")["microservices"] == 5  # 99.9% available
    assert stars(card, "deployability")["monolith"] == 1  # slowest rollout, most errors
    assert stars(card, "simplicity")["monolith"] == 5  # one deployable, one hop


def test_stars_are_relative_on_a_log_scale():
    places = positions({"a": Estimate(0.010), "b": Estimate(0.100), "c": Estimate(1.0)}, "lower")
    assert places == {"a": 1.0, "b": pytest.approx(0.5), "c": 0.0}
    assert [to_stars(places[k]) for k in "abc"] == [5, 3, 1]


def test_variants_the_measure_cannot_tell_apart_all_get_three_stars():
    overlapping = {"a": Estimate(0.010, 0.004), "b": Estimate(0.012, 0.004)}
    assert {k: to_stars(p) for k, p in positions(overlapping, "lower").items()} == {"a": 3, "b": 3}
    assert positions({"a": Estimate(1.0)}, "lower") is None  # one variant: nothing to be relative to


def test_published_ratings_are_richards_and_ford_for_the_styles_named():
    assert set(RATINGS) == {"monolith", "microkernel", "service-based", "event-driven", "space-based", "microservices"}
    assert published_stars("monolith", "simplicity") == 5
    assert published_stars("microservices", "cost") == 1  # more stars = cheaper
    assert published_stars("microservices", "elasticity") == 5
    assert published_stars(None, "cost") is None


def test_style_comes_from_extras_or_the_variant_name(card):
    assert [v.style for v in card.variants] == ["monolith", "microservices", "event-driven"]


def test_agreements_and_disagreements_are_called_out(card):
    findings = card.findings()
    assert findings and all(isinstance(f, Finding) for f in findings)
    monolith_cost = next(f for f in findings if f.variant == "monolith" and f.characteristic == "cost")
    assert monolith_cost.agrees and "agrees with" in monolith_cost.sentence()
    assert Finding("x", "microservices", "performance", 5, 2).sentence().endswith("beats published ★★☆☆☆")


def test_a_finding_names_the_style_only_when_it_is_not_the_variant_name():
    assert Finding("event-driven", "event-driven", "cost", 3, 3).sentence().startswith("event-driven, cost:")
    assert Finding("orders-v2", "microservices", "cost", 3, 3).sentence().startswith("orders-v2 (microservices), cost:")
    assert not Finding("x", "microservices", "performance", 5, 2).agrees
