"""The one formatter: every figure a person reads (CLI table, compare, report, charts) is written
the same way: three significant digits, a unit that keeps the number between 1 and 999, and the
95% interval in the mean's unit and decimal places."""

from __future__ import annotations

import math

import pytest

from simulator import formatting as f


@pytest.mark.parametrize("seconds, ci, text", [
    (0.00726, 0.000233, "7.26 ms ± 0.23"),
    (0.0354, 0.0006, "35.4 ms ± 0.6"),
    (0.09986, None, "99.9 ms"),
    (1.1, 0.668, "1.10 s ± 0.67"),
    (0.00085, None, "850 µs"),
    (0.9996, None, "1.00 s"),
    (150.0, None, "2.50 min"),
    (9000.0, None, "2.50 h"),
    (0.0, None, "0 s"),
    (0.0379, 0.00001, "37.9 ms"),  # a CI that rounds to zero at the mean's places: the figure is exact
    (None, None, "–"),
    (math.nan, None, "–"),
])
def test_durations_take_a_human_unit_and_the_interval_follows_the_mean(seconds, ci, text):
    assert f.duration(seconds, ci) == text


def test_rates_shares_money_and_plain_numbers():
    assert f.rate(298.13, 4.21) == "298/s ± 4"
    assert f.rate(2844.3) == "2,844/s"
    assert f.rate(0) == "0/s"
    assert f.percent(0.0710, 0.0019) == "7.10% ± 0.19"
    assert f.percent(0.5016) == "50.2%"
    assert f.percent(0.9995) == "99.95%"
    assert f.percent(0.0) == "0%"
    assert f.money(0.3321, 0.0104) == "$0.33 ± 0.01"
    assert f.money(0.004213) == "$0.00421"
    assert f.number(7.0) == "7" and f.number(3.15) == "3.15" and f.number(293.4, 12.2) == "293 ± 12"
    assert f.relative(-0.187) == "−18.7%" and f.relative(0.05) == "+5.00%" and f.relative(0.0) == "±0%"


def test_a_zero_width_interval_shows_the_figure_as_exact():
    assert f.with_ci(3.45, 1.4e-15, 2) == "3.45"  # floating-point noise, not "± 1.4e-15"
    assert f.with_ci(3.45, 0.0, 2) == "3.45"
    assert f.with_ci(3.45, 0.12, 2) == "3.45 ± 0.12"


def test_a_field_name_says_its_unit():
    assert [f.unit_of(n) for n in ("overall.latency_p95_s", "overall.throughput_per_s", "overall.error_rate",
                                   "extras.cost.per_million_requests_usd", "extras.cost.idle_fraction", "requests")] == [
        "s", "/s", "%", "usd", "%", ""]
    assert f.figure(0.00726, 0.000233, "s") == "7.26 ms ± 0.23"
