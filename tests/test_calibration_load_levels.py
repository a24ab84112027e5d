"""Each calibration level is a steady open load at its target rate: the shop scenario's spike is not replayed.

The shop scenario (styles-baseline) has a flash sale of 4x for 5 s; replayed inside a 60 s level
at 50% of saturation it loaded the monolith at twice its saturation, and the measured mean was
1.4 s against a steady model's 42 ms (seen on 2026-12-02).
"""

from simulator.calibration import folder as folders
from simulator.calibration.orchestrate import SHOP_SCENARIO, Loop
from simulator.scenario import load_scenario


def overrides_of(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--set"]


def test_a_level_load_test_offers_its_target_rate_without_the_scenarios_spike(tmp_path):
    assert load_scenario(SHOP_SCENARIO).base.workload.spikes, "the shop scenario has a spike to leave out"
    loop = Loop("monolith", tmp_path, levels=[0.5], hold_out=None, duration_s=60, warmup_s=10, repetitions=2,
                ramp_step_s=10, log=lambda line: None)
    run = folders.RunRecord("50pct-rep1", "50%", 1, 257.3, 10.0, 60.0)
    (tmp_path / "run").mkdir()
    argv, _ = loop.loadtest_argv(run, tmp_path / "run")
    workload = load_scenario(SHOP_SCENARIO, overrides_of(argv)).base.workload
    assert workload.spikes == []
    assert workload.rate_per_s == 257.3
