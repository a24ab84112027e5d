"""A ramp step is below saturation, past it, or failed: a step that answered nothing is no saturation figure."""

from simulator.calibration.orchestrate import RAMP_LATENCY_LIMIT_S, ramp_step_outcome


def test_a_step_that_answered_nothing_failed():
    assert ramp_step_outcome(300.0, 0.0, 0.0, 10.0) == "failed"


def test_a_step_that_kept_up_is_below_saturation():
    assert ramp_step_outcome(300.0, 297.0, 0.010, 10.0) == "below"


def test_a_step_that_fell_short_or_slowed_down_is_past_saturation():
    assert ramp_step_outcome(600.0, 480.0, 0.050, 10.0) == "past"  # 80% of the offered load, far beyond Poisson noise
    assert ramp_step_outcome(300.0, 299.0, RAMP_LATENCY_LIMIT_S * 1.5, 10.0) == "past"
