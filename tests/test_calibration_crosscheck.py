"""The cross-check verdict is an effect size: significant (beyond 2 combined standard errors) and large (beyond 10%)."""

from simulator.calibration.estimate import Fitted
from simulator.calibration.fit import CrossCheck


def check(model_ms: float, model_se_ms: float | None, other_ms: float, other_se_ms: float | None) -> bool | None:
    def fitted(value, se):
        return Fitted(value / 1e3, None if se is None else se / 1e3, "test")

    return CrossCheck("x", fitted(model_ms, model_se_ms), fitted(other_ms, other_se_ms)).agrees


def test_a_large_and_significant_difference_disagrees():
    assert check(10.0, 0.1, 12.0, 0.1) is False  # 20% apart, 14 combined standard errors


def test_a_significant_but_small_difference_agrees():
    assert check(10.0, 0.01, 10.5, 0.01) is True  # 35 standard errors, but only 5%


def test_a_large_difference_within_the_noise_agrees():
    assert check(10.0, 2.0, 14.0, 2.0) is True  # 40%, but 4.0 <= 2 * 2.83 combined


def test_an_unknown_error_gives_no_verdict():
    assert check(10.0, None, 20.0, 0.1) is None
