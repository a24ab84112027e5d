"""Every shipped scenario is valid, and the engine's own examples show what their comments promise.

(The theory scenarios run in test_engine_theory.py, the style scenarios in test_styles*.py, the
platform scenarios in test_platforms.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulator.engine.experiment import aggregate, run_variant
from simulator.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_is_valid_and_documented(path):
    loaded = load_scenario(path)
    assert loaded.base.description, "a shipped scenario says what it shows"
    assert path.read_text().lstrip().startswith("#"), "a shipped scenario opens with a comment explaining it"


def test_shop_spike_three_order_instances_absorb_the_spike_that_one_cannot():
    loaded = load_scenario(SCENARIOS[0].parent / "shop-spike.yaml", ["duration=150s", "warmup=20s"], replications=2)
    summaries = {v.name: aggregate(v, run_variant(v, 2)) for v in loaded.variants}
    one, three = summaries["one-orders"], summaries["three-orders"]
    # 4x spike: checkout arrivals go from 30/s to 120/s; one orders instance (2 cores, 25 ms) can
    # serve 80/s, three can serve 240/s
    assert one["services"]["orders"]["rejections"]["mean"] > 100
    assert three["services"]["orders"]["rejections"]["mean"] == 0
    assert one["classes"]["checkout"]["latency_p95_s"]["mean"] > 3 * three["classes"]["checkout"]["latency_p95_s"]["mean"]
    # browse never touches orders: the same arrivals give it the same latency in both variants
    assert one["classes"]["browse"]["latency_mean_s"]["mean"] == pytest.approx(three["classes"]["browse"]["latency_mean_s"]["mean"], rel=0.05)
    # notifications are fire-and-forget, sent after the payment provider's ~40 ms: measured end to
    # end from the request's start, so they take longer than that provider alone
    assert three["classes"]["checkout"]["async_latency_mean_s"]["mean"] > 0.040


# --- determinism: the same seed gives the same summary.json ---------------------------------------

#: Overrides that shorten each scenario for the determinism check (crashes, spikes and overload
#: still happen within them); the style scenarios are the costly ones, so they run shortest.
SHORTENED = {
    "styles-baseline": ["duration=20s", "warmup=4s"],
    "styles-saturation": ["duration=15s", "warmup=3s"],
    "failure-recovery": [],  # in full: its crashes under load are what once made two runs differ
}
#: styles-saturation's sweep has 36 variants: one per style at the lowest rate, and the overloaded extreme.
SATURATION_VARIANTS = ["monolith-250", "microservices-250", "event-driven-250", "space-based-250", "service-based-250", "microkernel-250", "monolith-1500"]
WALL_CLOCK = {"run", "wall_time_s"}  #: Fields that measure the machine, not the model.


def _without_wall_clock(value):
    if isinstance(value, dict):
        return {k: _without_wall_clock(v) for k, v in value.items() if k not in WALL_CLOCK}
    if isinstance(value, list):
        return [_without_wall_clock(v) for v in value]
    return value


#: Scenarios that simulate: a load-test-only file (``http:`` classes, no services) has nothing to run.
SIMULATED = [p for p in SCENARIOS if {"services", "application"} & set(yaml.safe_load(p.read_text()))]


@pytest.mark.slow
@pytest.mark.parametrize("path", SIMULATED, ids=[p.stem for p in SIMULATED])
def test_the_same_seed_gives_the_same_summary_in_one_process_and_across_two(path, tmp_path):
    """Run in this process (--jobs 1) and in two worker processes (--jobs 2): identical summaries.

    Two processes lay objects out at different addresses, so anything that depends on iteration
    order of a set of objects (or on string hashing) shows up as a difference here.
    """
    from simulator.runner import run_scenario
    from simulator.results.rundir import read_summary

    overrides = SHORTENED.get(path.stem, ["duration=60s", "warmup=10s"]) + ["metrics_interval=5s"]
    only = SATURATION_VARIANTS if path.stem == "styles-saturation" else None
    summaries = []
    for jobs in (1, 2):
        loaded = load_scenario(path, overrides, replications=2)
        run_scenario(loaded, tmp_path / f"jobs{jobs}", jobs=jobs, only=only)
        summaries.append(_without_wall_clock(read_summary(tmp_path / f"jobs{jobs}")))
    one, two = summaries
    assert one["status"] == "ok"
    assert one == two
