"""Every shipped scenario is valid, and the engine's own examples show what their comments promise.

(The theory scenarios run in test_engine_theory.py, the style scenarios in test_styles*.py, the
platform scenarios in test_platforms.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
