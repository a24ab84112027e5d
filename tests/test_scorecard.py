"""Scorecard: the stars follow from the numbers, relative to the variants compared, and sit beside
Richards & Ford's published ratings."""

from __future__ import annotations

import pytest

from simulator.charts import load_runs
from simulator.results.rundata import Estimate
from simulator.scorecard import Finding, build_scorecard
from simulator.scorecard.published import RATINGS, published_stars
from simulator.scorecard.stars import positions, to_stars

from test_charts_support import MAIN_JOB, main_job_run, styles_run, sweep_run


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return build_scorecard(load_runs(styles_run(tmp_path_factory.getbasetemp())))


@pytest.fixture(scope="module")
def main_job(tmp_path_factory):
    return build_scorecard(load_runs(main_job_run(tmp_path_factory.getbasetemp())))


def stars(card, key):
    return next(ch for ch in card.characteristics if ch.key == key).stars


def scored(card, key):
    return next(m for ch in card.characteristics if ch.key == key for m in ch.measures if m.scored)


def test_the_main_job_measures_all_seven_characteristics_with_confidence_intervals(main_job):
    assert [ch.key for ch in main_job.characteristics] == [
        "performance", "scalability", "elasticity", "fault_tolerance", "cost", "deployability", "simplicity"]
    for ch in main_job.characteristics:
        assert ch.measured and all(s is not None for s in ch.stars.values()), ch.key
        assert all(p is not None for p in ch.published.values()), ch.key  # every variant is a published style
        for measure in (m for m in ch.measures if m.scored):
            for label, value in measure.values.items():
                assert value is not None and len(value.values) == 3, (ch.key, measure.key, label)
                assert value.ci95 is not None, (ch.key, measure.key, label)


def test_main_job_fault_tolerance_follows_where_the_failed_capability_lives(main_job):
    failed = scored(main_job, "fault_tolerance").values
    # payment is down for 5 s of the 10 s window: everything that shares its process fails with it
    for whole in ("monolith", "microkernel", "space-based"):
        assert failed[whole].mean == pytest.approx(0.5, abs=0.02)
    assert failed["event-driven"].mean == 0  # payment is a consumer, off the client's path
    assert 0.03 < failed["microservices"].mean < 0.07  # only place_order (10%) calls payment
    assert failed["microservices"].mean < failed["service-based"].mean < 0.1  # ordering also serves order_status
    assert stars(main_job, "fault_tolerance")["event-driven"] == 5 and stars(main_job, "fault_tolerance")["monolith"] == 1


def test_main_job_cost_elasticity_deployability_and_simplicity_follow_the_structure(main_job):
    assert stars(main_job, "cost")["microservices"] == 1  # 7 deployables and 6 databases, mostly idle
    assert stars(main_job, "cost")["monolith"] == 5
    recovery = scored(main_job, "elasticity").values
    assert recovery["microservices"].mean == recovery["space-based"].mean == 0  # the spike never crosses 2x nominal p95
    assert recovery["monolith"].mean > 3  # the shared database queues through the 5 s spike
    errors = next(m for ch in main_job.characteristics if ch.key == "deployability" for m in ch.measures if m.key == "rollout_errors").values
    assert errors["event-driven"].mean == 0 and errors["monolith"].mean > 5 * errors["microservices"].mean
    assert stars(main_job, "simplicity")["monolith"] == 5 and stars(main_job, "simplicity")["microservices"] == 1


def test_nominal_p95_leaves_out_what_comes_after_the_first_disturbance(tmp_path_factory):
    from simulator.scorecard.measures import nominal_p95

    saturated = next(v for v in load_runs(sweep_run(tmp_path_factory.getbasetemp())) if v.name == "load-200")
    # 80% busy before the 2x spike at 12 s, overloaded after it
    assert saturated.get("overall.latency_p95_s").mean > 1.0
    assert 0.02 < nominal_p95(saturated).mean < 0.1


def test_cheapest_variant_gets_five_cost_stars_and_the_dearest_one(card):
    # $2, $6, $4 per million: on a log scale $4 sits 37% of the way from $6 to $2
    assert stars(card, "cost") == {"monolith": 5, "microservices": 1, "event-driven": 2}


def test_stars_are_relative_on_a_log_scale():
    places = positions({"a": Estimate(0.010), "b": Estimate(0.100), "c": Estimate(1.0)}, "lower", paired=True)
    assert places == {"a": 1.0, "b": pytest.approx(0.5), "c": 0.0}
    assert [to_stars(places[k]) for k in "abc"] == [5, 3, 1]


def test_variants_the_measure_cannot_tell_apart_all_get_three_stars():
    overlapping = {"a": Estimate(0.010, 0.004), "b": Estimate(0.012, 0.004)}
    assert {k: to_stars(p) for k, p in positions(overlapping, "lower", paired=False).items()} == {"a": 3, "b": 3}
    assert positions({"a": Estimate(1.0)}, "lower", paired=True) is None  # one variant: nothing to be relative to


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


def test_the_main_job_puts_its_outage_and_rollout_where_each_style_runs_payment():
    from simulator.scenario import load_scenario

    loaded = load_scenario(MAIN_JOB)
    hit = {v.name: (v.scenario.failures[0].service, next(s for s, spec in v.scenario.services.items() if spec.deployment))
           for v in loaded.variants}
    assert hit == {"monolith": ("monolith", "monolith"), "microservices": ("payment", "payment"),
                   "event-driven": ("payment-consumer", "payment-consumer"), "space-based": ("processing-unit", "processing-unit"),
                   "service-based": ("ordering", "ordering"), "microkernel": ("core", "core")}
    assert all(spec.platform.kind == "container" for v in loaded.variants for spec in v.scenario.services.values())


def test_a_rollout_of_a_capability_the_application_lacks_is_one_clear_error():
    from simulator.errors import ScenarioError
    from simulator.scenario import load_scenario

    with pytest.raises(ScenarioError) as error:
        load_scenario(MAIN_JOB, ["style.rollout.capability=paymnt"])
    assert "style.rollout.capability: no capability 'paymnt' in the application (did you mean 'payment'?)" in str(error.value)


def test_a_difference_that_is_not_significant_gives_equal_stars():
    # a and b differ by 0.5 ms with replications spread ±1 ms: not significant (Welch or paired with
    # noisy differences); c is 10x slower, well apart from both
    a = Estimate(0.0100, None, (0.0090, 0.0100, 0.0110))
    b = Estimate(0.0105, None, (0.0110, 0.0095, 0.0110))
    c = Estimate(0.1000, None, (0.0990, 0.1000, 0.1010))
    for paired in (True, False):
        places = positions({"a": a, "b": b, "c": c}, "lower", paired)
        assert to_stars(places["a"]) == to_stars(places["b"]) == 5
        assert to_stars(places["c"]) == 1


def test_paired_differences_separate_what_welch_cannot():
    # b is a + 1 ms in every replication (shared noise): paired, b is worse; Welch sees the ±10 ms
    # spread of the replications and cannot tell them apart, so both get three stars
    a = Estimate(0.050, None, (0.040, 0.050, 0.060))
    b = Estimate(0.051, None, (0.041, 0.051, 0.061))
    paired = positions({"a": a, "b": b}, "lower", paired=True)
    welch = positions({"a": a, "b": b}, "lower", paired=False)
    assert {k: to_stars(p) for k, p in paired.items()} == {"a": 5, "b": 1}
    assert {k: to_stars(p) for k, p in welch.items()} == {"a": 3, "b": 3}


def test_with_one_replication_the_scorecard_cannot_rank(tmp_path_factory):
    import json
    import shutil

    run = tmp_path_factory.mktemp("one") / "run"
    shutil.copytree(styles_run(tmp_path_factory.getbasetemp()), run)
    summary = json.loads((run / "summary.json").read_text())
    for block in summary["variants"].values():  # keep replication 0 of every estimate only
        _first_replication(block)
    (run / "summary.json").write_text(json.dumps({**summary, "replications": 1}))
    one = build_scorecard(load_runs(run))
    assert not one.can_rank and one.method.startswith("cannot rank: one replication")
    assert all(s is None for ch in one.characteristics for s in ch.stars.values())
    assert one.findings() == []


def _first_replication(block):
    for key, value in block.items():
        if isinstance(value, dict) and "mean" in value and "values" in value:
            block[key] = {**value, "mean": value["values"][0], "ci95": None, "values": value["values"][:1]}
        elif isinstance(value, dict):
            _first_replication(value)


def test_a_run_with_replications_says_its_stars_are_paired(card):
    assert card.can_rank and card.paired
    assert card.method.startswith("stars from paired per-replication differences")
