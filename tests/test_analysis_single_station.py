"""Single-station formulas agree with textbook values worked out by hand."""

import math

import numpy as np
import pytest
from scipy import integrate

from simulator.analysis import erlang_b, erlang_c, md1, mg1, mm1, mm1k, mmc, mmck


def test_mm1_at_rho_09_has_w_10_and_l_9():
    m = mm1(arrival_rate=0.9, service_rate=1.0)
    assert m.utilisation == pytest.approx(0.9)
    assert m.mean_response_time_s == pytest.approx(10.0)  # 1 / (mu - lambda)
    assert m.mean_in_system == pytest.approx(9.0)  # rho / (1 - rho)
    assert m.mean_wait_s == pytest.approx(9.0)  # rho / (mu - lambda)
    assert m.mean_in_queue == pytest.approx(8.1)  # rho^2 / (1 - rho)
    assert m.prob_wait == pytest.approx(0.9)
    assert m.throughput_per_s == 0.9
    assert m.blocking_prob == 0.0


def test_mm1_response_time_is_exponential_with_rate_mu_minus_lambda():
    m = mm1(0.9, 1.0)
    assert m.response_time_percentile_s(0.95) == pytest.approx(-math.log(0.05) / 0.1)
    assert m.response_time_percentile_s(0.5) == pytest.approx(math.log(2) / 0.1)
    # wait: P(Wq > t) = rho e^{-(mu - lambda) t}
    assert m.wait_percentile_s(0.95) == pytest.approx(math.log(0.9 / 0.05) / 0.1)
    assert m.wait_percentile_s(0.05) == 0.0  # 10% never wait


def test_erlang_c_for_two_servers_and_one_erlang_is_one_third():
    assert erlang_b(1.0, 2) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    assert erlang_c(1.0, 2) == pytest.approx(1 / 3)
    m = mmc(arrival_rate=1.0, service_rate=1.0, servers=2)
    assert m.prob_wait == pytest.approx(1 / 3)
    assert m.mean_wait_s == pytest.approx((1 / 3) / (2 - 1))  # C / (c mu - lambda)
    assert m.mean_response_time_s == pytest.approx(4 / 3)
    assert m.mean_in_system == pytest.approx(4 / 3)
    assert m.utilisation == pytest.approx(0.5)


def test_erlang_c_matches_the_textbook_sum_for_moderate_c():
    a, c = 7.3, 9
    terms = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    assert erlang_c(a, c) == pytest.approx(top / (terms + top), rel=1e-12)


def test_erlang_c_is_finite_and_sane_for_500_servers():
    c = erlang_c(offered_load=490.0, servers=500)
    assert 0.0 < c < 1.0
    m = mmc(490.0, 1.0, 500)
    assert np.isfinite([m.mean_in_system, m.mean_wait_s]).all()
    assert m.mean_response_time_s == pytest.approx(1.0 + c / 10.0)


def test_mmc_with_one_server_equals_mm1():
    assert mmc(0.7, 1.3, 1) == mm1(0.7, 1.3)


def test_mm1_equals_mg1_with_exponential_service_variance():
    mu = 2.0
    exact, pk = mm1(1.5, mu), mg1(1.5, service_mean=1 / mu, service_variance=1 / mu**2)
    for name in ("mean_in_system", "mean_in_queue", "mean_response_time_s", "mean_wait_s"):
        assert getattr(pk, name) == pytest.approx(getattr(exact, name))


def test_md1_waits_half_as_long_as_mm1():
    lam, mu = 0.8, 1.0
    rho = lam / mu
    m = md1(lam, mu)
    assert m.mean_wait_s == pytest.approx(rho / (2 * mu * (1 - rho)))  # = 2.0
    assert m.mean_wait_s == pytest.approx(mm1(lam, mu).mean_wait_s / 2)
    assert m.mean_response_time_s == pytest.approx(3.0)


def test_mg1_has_no_closed_form_percentile():
    with pytest.raises(ValueError, match="no closed-form response-time distribution"):
        md1(0.5, 1.0).response_time_percentile_s(0.95)


def test_mmc_sojourn_percentile_inverts_the_cdf_of_wait_plus_service():
    lam, mu, c = 3.0, 1.0, 4
    m = mmc(lam, mu, c)
    t95 = m.response_time_percentile_s(0.95)
    # P(T <= t) by direct convolution: (1 - C) P(S <= t) + C * int_0^t theta e^{-theta w} P(S <= t - w) dw
    theta, big_c = c * mu - lam, m.prob_wait
    waited, _ = integrate.quad(lambda w: theta * math.exp(-theta * w) * (1 - math.exp(-mu * (t95 - w))), 0, t95)
    cdf = (1 - big_c) * (1 - math.exp(-mu * t95)) + big_c * waited
    assert cdf == pytest.approx(0.95, abs=1e-9)


def test_mmc_sojourn_handles_drain_rate_equal_to_service_rate():
    m = mmc(1.0, 1.0, 2)  # c mu - lambda = mu: the hypoexponential degenerates to Erlang-2
    t = m.response_time_percentile_s(0.9)
    big_c = 1 / 3
    survival = (1 - big_c) * math.exp(-t) + big_c * (1 + t) * math.exp(-t)
    assert survival == pytest.approx(0.1)


def test_mm1k_blocking_and_throughput_from_the_truncated_geometric():
    lam, mu, k = 2.0, 1.0, 3  # overloaded is fine with a finite room
    rho = lam / mu
    pi = [rho**n for n in range(k + 1)]
    pi = [x / sum(pi) for x in pi]  # 1, 2, 4, 8 over 15
    m = mm1k(lam, mu, k)
    assert m.blocking_prob == pytest.approx(8 / 15)
    assert m.throughput_per_s == pytest.approx(lam * 7 / 15)
    assert m.utilisation == pytest.approx(1 - pi[0])
    assert m.mean_in_system == pytest.approx(sum(n * p for n, p in enumerate(pi)))
    assert m.mean_response_time_s == pytest.approx(m.mean_in_system / m.throughput_per_s)


def test_mm1k_with_large_capacity_approaches_mm1():
    big, exact = mm1k(0.5, 1.0, 200), mm1(0.5, 1.0)
    assert big.blocking_prob < 1e-50
    assert big.mean_response_time_s == pytest.approx(exact.mean_response_time_s)
    assert big.response_time_percentile_s(0.95) == pytest.approx(exact.response_time_percentile_s(0.95))


def test_mmck_with_capacity_equal_to_servers_is_erlang_b():
    m = mmck(arrival_rate=5.0, service_rate=1.0, servers=6, capacity=6)
    assert m.blocking_prob == pytest.approx(erlang_b(5.0, 6))
    assert m.mean_in_queue == pytest.approx(0.0)
    assert m.prob_wait == pytest.approx(0.0)
    assert m.mean_response_time_s == pytest.approx(1.0)


def test_mmck_with_large_capacity_approaches_mmc_including_p95():
    big, exact = mmck(3.0, 1.0, 4, 400), mmc(3.0, 1.0, 4)
    assert big.mean_wait_s == pytest.approx(exact.mean_wait_s)
    assert big.prob_wait == pytest.approx(exact.prob_wait)
    assert big.response_time_percentile_s(0.95) == pytest.approx(exact.response_time_percentile_s(0.95))
    assert big.wait_percentile_s(0.95) == pytest.approx(exact.wait_percentile_s(0.95))


def test_mmck_percentile_matches_the_cdf_of_its_own_mixture():
    m = mmck(2.0, 1.0, 2, 4)  # accepted arrivals see 0..3; those seeing 2 or 3 wait Erlang(1|2, 2)
    t = m.response_time_percentile_s(0.9)
    view = m.sojourn.arrival_view
    exp_tail = math.exp(-t)
    # Exp(2) + Exp(1) and Erlang(2, 2) + Exp(1) survival functions, by integration
    def tail_after_wait(k):
        density = lambda w: 2**k * w ** (k - 1) * math.exp(-2 * w) / math.factorial(k - 1)
        inside, _ = integrate.quad(lambda w: density(w) * math.exp(-(t - w)), 0, t)
        beyond, _ = integrate.quad(density, t, math.inf)
        return inside + beyond
    survival = (view[0] + view[1]) * exp_tail + view[2] * tail_after_wait(1) + view[3] * tail_after_wait(2)
    assert survival == pytest.approx(0.1, abs=1e-9)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mm1(1.0, 1.0), "unstable: utilisation 1.000 >= 1"),
        (lambda: mmc(5.0, 1.0, 4), "unstable: utilisation 1.250 >= 1"),
        (lambda: mg1(2.0, 0.6, 0.1), "unstable: utilisation 1.200 >= 1"),
        (lambda: mm1(0.0, 1.0), "arrival_rate must be positive and finite, got 0.0"),
        (lambda: mm1(1.0, -2.0), "service_rate must be positive and finite, got -2.0"),
        (lambda: mmc(1.0, 2.0, 0), "servers must be a positive integer, got 0"),
        (lambda: mg1(0.5, 1.0, -1.0), "service_variance must be >= 0 and finite, got -1.0"),
        (lambda: mmck(1.0, 1.0, 3, 2), "capacity 2 must be >= servers 3"),
        (lambda: mm1(0.5, 1.0).response_time_percentile_s(95), "percentile must be a fraction in (0, 1), got 95"),
    ],
)
def test_invalid_inputs_raise_value_error_with_exact_message(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message
