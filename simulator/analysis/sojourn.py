"""Sojourn-time and waiting-time distributions of Markovian stations, for exact percentiles.

Mean values (Little's law, Pollaczek-Khinchine) say nothing about a p95; for M/M/c and M/M/c/K
the whole distribution is known in closed form, so percentiles can be computed exactly and
compared with the simulated p95 of the same station.

* M/M/c, FCFS (Kleinrock 1975, sec. 3.5; Harchol-Balter 2013, ch. 14): an arrival waits with
  probability ``C`` (Erlang C); given that it waits, the wait is exponential with rate
  ``theta = c*mu - lambda``. The sojourn is that wait plus an independent ``Exp(mu)`` service.
* M/M/c/K, FCFS: by PASTA an accepted arrival sees ``n`` customers with probability
  ``pi_n / (1 - pi_K)``. If ``n < c`` it is served at once; otherwise it waits for
  ``n - c + 1`` departures at rate ``c*mu``, an Erlang(n - c + 1, c*mu) wait.

Percentiles ``p`` are fractions in (0, 1): 0.95 is the p95. They are found by inverting the
survival function with Brent's method (M/M/1 has an explicit formula, used as is).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np
from scipy import optimize, stats


class SojournTime(Protocol):
    """What a station's exact time distribution offers: survival functions and percentiles."""

    def survival(self, t_s: float) -> float: ...

    def wait_survival(self, t_s: float) -> float: ...

    def percentile_s(self, p: float) -> float: ...

    def wait_percentile_s(self, p: float) -> float: ...


def check_fraction(p: float) -> None:
    """Reject percentiles outside (0, 1); a p95 is 0.95, not 95."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"percentile must be a fraction in (0, 1), got {p!r}")


def invert_survival(survival: Callable[[float], float], p: float, scale_s: float) -> float:
    """Smallest ``t`` with ``survival(t) <= 1 - p`` for a continuous, decreasing survival function.

    ``scale_s`` is a typical time (e.g. a mean) used to start the bracket search.
    """
    target = 1.0 - p
    if survival(0.0) <= target:
        return 0.0
    hi = scale_s
    while survival(hi) > target:
        hi *= 2.0
    return float(
        optimize.brentq(lambda t: survival(t) - target, 0.0, hi, xtol=1e-15, rtol=1e-13)
    )


def _two_exponentials_survival(rate_a: float, rate_b: float, t_s: float) -> float:
    """P(X_a + X_b > t) for independent exponentials; stable when the rates are close or equal."""
    slow, fast = min(rate_a, rate_b), max(rate_a, rate_b)
    gap = fast - slow
    # (1 - e^{-gap t}) / gap, tending to t as gap -> 0
    ramp = t_s if gap == 0.0 else -math.expm1(-gap * t_s) / gap
    return math.exp(-slow * t_s) * (1.0 + slow * ramp)


@dataclass(frozen=True)
class MMcSojournTime:
    """Waiting and sojourn time of an FCFS M/M/c queue with infinite waiting room."""

    arrival_rate: float  #: lambda, arrivals per second.
    service_rate: float  #: mu, completions per second per server.
    servers: int  #: c.
    prob_wait: float  #: Erlang C: probability an arrival finds all servers busy.

    @property
    def drain_rate(self) -> float:
        """``c*mu - lambda``: the rate of the exponential wait, given that there is one."""
        return self.servers * self.service_rate - self.arrival_rate

    def wait_survival(self, t_s: float) -> float:
        """P(Wq > t) = C exp(-(c mu - lambda) t)."""
        return self.prob_wait * math.exp(-self.drain_rate * t_s)

    def survival(self, t_s: float) -> float:
        """P(T > t) for the sojourn T = Wq + S: a mixture of Exp(mu) and Exp(theta) + Exp(mu)."""
        served_at_once = math.exp(-self.service_rate * t_s)
        waited = _two_exponentials_survival(self.drain_rate, self.service_rate, t_s)
        return (1.0 - self.prob_wait) * served_at_once + self.prob_wait * waited

    def percentile_s(self, p: float) -> float:
        """Sojourn-time percentile; for M/M/1 the sojourn is Exp(mu - lambda), inverted exactly."""
        check_fraction(p)
        if self.servers == 1:
            return -math.log1p(-p) / self.drain_rate
        mean_s = self.prob_wait / self.drain_rate + 1.0 / self.service_rate
        return invert_survival(self.survival, p, mean_s)

    def wait_percentile_s(self, p: float) -> float:
        """Waiting-time percentile: 0 while ``1 - p >= C``, else ``ln(C / (1 - p)) / theta``."""
        check_fraction(p)
        if 1.0 - p >= self.prob_wait:
            return 0.0
        return math.log(self.prob_wait / (1.0 - p)) / self.drain_rate


@dataclass(frozen=True)
class MMcKSojournTime:
    """Waiting and sojourn time of an accepted customer at an FCFS M/M/c/K station."""

    service_rate: float  #: mu, completions per second per server.
    servers: int  #: c.
    arrival_view: tuple[float, ...]  #: P(an accepted arrival sees n in system), n = 0..K-1.

    def _ahead(self) -> tuple[np.ndarray, np.ndarray]:
        """Weights of arrivals that must wait and the number of departures each waits for."""
        weights = np.asarray(self.arrival_view[self.servers :])
        departures = np.arange(1, len(weights) + 1)
        return weights, departures

    def wait_survival(self, t_s: float) -> float:
        """P(Wq > t): a mixture of Erlang(k, c mu) tails."""
        weights, departures = self._ahead()
        if len(weights) == 0:
            return 0.0
        rate = self.servers * self.service_rate
        return float(np.dot(weights, stats.gamma.sf(t_s, departures, scale=1.0 / rate)))

    def survival(self, t_s: float) -> float:
        """P(T > t): served at once (Exp(mu)) or an Erlang(k, c mu) wait plus Exp(mu) service."""
        mu, c = self.service_rate, self.servers
        at_once = sum(self.arrival_view[:c]) * math.exp(-mu * t_s)
        weights, k = self._ahead()
        if len(weights) == 0:
            return at_once
        if c == 1:  # wait + service is Erlang(k + 1, mu)
            tail = stats.gamma.sf(t_s, k + 1, scale=1.0 / mu)
        else:
            # P(E_k(a) + X_b > t) = sf_E(t) + e^{-bt} (a / (a - b))^k P(Gamma(k, a - b) <= t)
            a, b = c * mu, mu
            log_carry = -b * t_s + k * math.log(a / (a - b)) + stats.gamma.logcdf(
                t_s, k, scale=1.0 / (a - b)
            )
            tail = stats.gamma.sf(t_s, k, scale=1.0 / a) + np.exp(log_carry)
        return float(at_once + np.dot(weights, tail))

    def percentile_s(self, p: float) -> float:
        """Sojourn-time percentile of accepted customers."""
        check_fraction(p)
        return invert_survival(self.survival, p, 1.0 / self.service_rate)

    def wait_percentile_s(self, p: float) -> float:
        """Waiting-time percentile of accepted customers (0 if at least ``p`` never wait)."""
        check_fraction(p)
        return invert_survival(self.wait_survival, p, 1.0 / self.service_rate)
