"""Units read as written; distributions sample what their analytic mean and variance say."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from simulator.distributions import Distribution
from simulator.units import parse_bandwidth_mb_s, parse_duration, parse_rate, parse_size_mb

DIST = TypeAdapter(Distribution)


@pytest.mark.parametrize(
    "text,seconds",
    [("250ms", 0.25), ("2s", 2.0), ("1.5m", 90.0), ("1h", 3600.0), ("500us", 5e-4), (3, 3.0), (0.5, 0.5), ("1e-3s", 1e-3)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text,mb", [("512MB", 512), ("1.5GB", 1500), ("200MiB", 200 * 1.048576), ("64KB", 0.064)])
def test_sizes(text, mb):
    assert parse_size_mb(text) == pytest.approx(mb)


@pytest.mark.parametrize("text,per_s", [("100/s", 100), ("6000/min", 100), ("2/ms", 2000), ("36/h", 0.01)])
def test_rates(text, per_s):
    assert parse_rate(text) == pytest.approx(per_s)


def test_bandwidth():
    assert parse_bandwidth_mb_s("1Gbit/s") == pytest.approx(125)
    assert parse_bandwidth_mb_s("100MB/s") == pytest.approx(100)


@pytest.mark.parametrize("bad", ["10 parsecs", "fast", "", True])
def test_bad_durations_say_what_is_expected(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_a_string_without_a_unit_is_refused_but_a_yaml_number_is_read_in_seconds():
    with pytest.raises(ValueError, match="'10' has no unit"):
        parse_duration("10")
    with pytest.raises(ValueError, match="has no unit"):
        DIST.validate_python("exp(10)")
    assert parse_duration(10) == 10.0
    assert parse_rate(90) == 90.0


@pytest.mark.parametrize(
    "spec,mean,variance",
    [
        ("exp(10ms)", 0.01, 1e-4),
        ("const(5ms)", 0.005, 0.0),
        ("5ms", 0.005, 0.0),
        ("lognormal(10ms, cv=1.5)", 0.01, (1.5 * 0.01) ** 2),
        ("gamma(10ms, cv=0.5)", 0.01, (0.5 * 0.01) ** 2),
        ("erlang(12ms, k=3)", 0.012, 0.012**2 / 3),
        ("uniform(5ms, 15ms)", 0.01, 0.01**2 / 12),
        ("empirical(1ms, 2ms, 9ms)", 0.004, np.var([0.001, 0.002, 0.009])),
        ({"type": "exponential", "mean": "2s"}, 2.0, 4.0),
    ],
)
def test_samples_match_the_analytic_moments(spec, mean, variance):
    dist = DIST.validate_python(spec)
    assert dist.mean == pytest.approx(mean)
    assert dist.variance == pytest.approx(variance)
    draw = dist.sampler(np.random.default_rng(42))
    samples = np.array([draw() for _ in range(200_000)])
    assert samples.mean() == pytest.approx(mean, rel=0.01, abs=1e-12)
    # a lognormal with CV 1.5 has a very heavy tail: its sample variance converges slowly
    heavy = getattr(dist, "type", "") == "lognormal"
    assert samples.var() == pytest.approx(variance, rel=0.25 if heavy else 0.05, abs=1e-12)


def test_lognormal_log_moments_are_exact():
    dist = DIST.validate_python("lognormal(10ms, cv=1.5)")
    mu, sigma = dist._params()
    logs = np.log([dist.sampler(np.random.default_rng(7))() for _ in range(1)] + list(np.random.default_rng(7).lognormal(mu, sigma, 100_000)))
    assert np.mean(logs) == pytest.approx(mu, abs=0.01)
    assert np.std(logs) == pytest.approx(sigma, rel=0.01)
    assert np.exp(mu + sigma**2 / 2) == pytest.approx(0.01)


def test_scaled_keeps_the_shape():
    dist = DIST.validate_python("lognormal(10ms, cv=1.5)").scaled(2)
    assert dist.mean == pytest.approx(0.02)
    assert dist.cv == pytest.approx(1.5)


@pytest.mark.parametrize("bad", ["exp(-1ms)", "weibull(2)", {"type": "exponential"}, "uniform(9ms, 1ms)", {"type": "exp", "mean": "1s", "x": 1}])
def test_bad_distributions_are_rejected(bad):
    with pytest.raises(ValidationError):
        DIST.validate_python(bad)
