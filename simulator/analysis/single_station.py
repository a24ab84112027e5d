"""Steady-state metrics of one queueing station: M/M/1, M/M/c, M/G/1, M/D/1, M/M/1/K, M/M/c/K.

These are the numbers the engine must reproduce when a scenario is reduced to one station.
Rates are per second (any time unit works if used consistently; outputs are then in that unit).

Formulas (Kleinrock 1975, ch. 3 and 5; Harchol-Balter 2013, ch. 13-14 and 23):

* Utilisation per server ``rho = lambda / (c mu)``; infinite queues need ``rho < 1``.
* Erlang B by the recursion ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))`` with offered load
  ``a = lambda / mu``: every step is a ratio of positive numbers, so it neither overflows nor
  cancels for hundreds of servers. Erlang C is then ``C = B / (1 - rho (1 - B))``.
* M/M/c: ``Wq = C / (c mu - lambda)``, ``W = Wq + 1/mu``, and Little's law ``L = lambda W``,
  ``Lq = lambda Wq``.
* M/G/1 (Pollaczek-Khinchine): ``Wq = lambda E[S^2] / (2 (1 - rho))`` with
  ``E[S^2] = Var[S] + E[S]^2``; M/D/1 is the case ``Var[S] = 0``.
* M/M/c/K (K = total capacity, queue plus servers): the birth-death stationary distribution,
  normalised in log space; arrivals finding K present are lost, so ``blocking_prob = pi_K``
  and ``throughput = lambda (1 - pi_K)``. Stable for any load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln, logsumexp

from simulator.analysis.sojourn import MMcKSojournTime, MMcSojournTime, SojournTime


@dataclass(frozen=True)
class StationMetrics:
    """Steady-state means of one station, in queueing-theory notation (L, Lq, W, Wq)."""

    utilisation: float  #: Fraction of time each server is busy (rho, per server).
    mean_in_system: float  #: L: mean number present, waiting or in service.
    mean_in_queue: float  #: Lq: mean number waiting, not in service.
    mean_response_time_s: float  #: W: mean sojourn (wait + service) of a served customer.
    mean_wait_s: float  #: Wq: mean time waiting before service starts.
    prob_wait: float | None  #: P(an accepted arrival waits); None where not defined.
    throughput_per_s: float  #: Customers served per second (lambda minus losses).
    blocking_prob: float = 0.0  #: P(an arrival is lost); 0 for infinite waiting rooms.
    sojourn: SojournTime | None = field(default=None, repr=False, compare=False)
    """The exact time distribution where a closed form exists (M/M/c, M/M/c/K), else None."""

    def response_time_percentile_s(self, p: float) -> float:
        """The ``p``-quantile (0.95 for the p95) of the response time, where it is known exactly."""
        return self._distribution("response-time").percentile_s(p)

    def wait_percentile_s(self, p: float) -> float:
        """The ``p``-quantile of the waiting time (before service), where it is known exactly."""
        return self._distribution("waiting-time").wait_percentile_s(p)

    def _distribution(self, what: str) -> SojournTime:
        if self.sojourn is None:
            raise ValueError(f"no closed-form {what} distribution for this station model")
        return self.sojourn


def check_rate(name: str, value: float) -> None:
    """Reject rates and times that are not positive and finite."""
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")


def check_servers(name: str, value: int) -> None:
    """Reject server counts and capacities that are not positive integers."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _require_stable(utilisation: float) -> None:
    if utilisation >= 1.0:
        raise ValueError(f"unstable: utilisation {utilisation:.3f} >= 1")


def erlang_b(offered_load: float, servers: int) -> float:
    """Erlang B: P(all ``servers`` busy) in M/M/c/c with ``offered_load = lambda/mu`` Erlangs."""
    check_rate("offered_load", offered_load)
    check_servers("servers", servers)
    blocking = 1.0
    for k in range(1, int(servers) + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return blocking


def erlang_c(offered_load: float, servers: int) -> float:
    """Erlang C: P(an arrival waits) in M/M/c; needs ``offered_load < servers``."""
    check_servers("servers", servers)
    utilisation = offered_load / servers
    _require_stable(utilisation)
    blocking = erlang_b(offered_load, servers)
    return blocking / (1.0 - utilisation * (1.0 - blocking))


def mmc(arrival_rate: float, service_rate: float, servers: int) -> StationMetrics:
    """M/M/c: Poisson arrivals, ``servers`` exponential servers, one FCFS queue, no losses."""
    check_rate("arrival_rate", arrival_rate)
    check_rate("service_rate", service_rate)
    check_servers("servers", servers)
    utilisation = arrival_rate / (servers * service_rate)
    _require_stable(utilisation)
    prob_wait = erlang_c(arrival_rate / service_rate, servers)
    mean_wait_s = prob_wait / (servers * service_rate - arrival_rate)
    return _by_littles_law(
        arrival_rate, utilisation, mean_wait_s, 1.0 / service_rate, prob_wait,
        sojourn=MMcSojournTime(arrival_rate, service_rate, int(servers), prob_wait),
    )


def _by_littles_law(
    arrival_rate: float, utilisation: float, mean_wait_s: float, service_mean_s: float, prob_wait: float, sojourn=None
) -> StationMetrics:
    """An infinite-queue station from its mean wait: W = Wq + S, then L = lambda W, Lq = lambda Wq."""
    mean_response_time_s = mean_wait_s + service_mean_s
    return StationMetrics(
        utilisation=utilisation,
        mean_in_system=arrival_rate * mean_response_time_s,
        mean_in_queue=arrival_rate * mean_wait_s,
        mean_response_time_s=mean_response_time_s,
        mean_wait_s=mean_wait_s,
        prob_wait=prob_wait,
        throughput_per_s=arrival_rate,
        sojourn=sojourn,
    )


def mm1(arrival_rate: float, service_rate: float) -> StationMetrics:
    """M/M/1: ``W = 1/(mu - lambda)``, ``L = rho/(1 - rho)``; the response time is Exp(mu - lambda)."""
    return mmc(arrival_rate, service_rate, 1)


def mg1(arrival_rate: float, service_mean: float, service_variance: float) -> StationMetrics:
    """M/G/1 by Pollaczek-Khinchine; ``service_mean`` in s, ``service_variance`` in s^2.

    Only means are exact here (no closed-form percentile), so ``sojourn`` is None.
    """
    check_rate("arrival_rate", arrival_rate)
    check_rate("service_mean", service_mean)
    if not (math.isfinite(service_variance) and service_variance >= 0):
        raise ValueError(f"service_variance must be >= 0 and finite, got {service_variance!r}")
    utilisation = arrival_rate * service_mean
    _require_stable(utilisation)
    second_moment = service_variance + service_mean**2
    mean_wait_s = arrival_rate * second_moment / (2.0 * (1.0 - utilisation))
    # PASTA: an arrival waits iff it finds the server busy, so P(wait) = utilisation
    return _by_littles_law(arrival_rate, utilisation, mean_wait_s, service_mean, prob_wait=utilisation)


def md1(arrival_rate: float, service_rate: float) -> StationMetrics:
    """M/D/1: deterministic service ``1/service_rate``; ``Wq = rho / (2 mu (1 - rho))``."""
    check_rate("service_rate", service_rate)
    return mg1(arrival_rate, 1.0 / service_rate, 0.0)


def mmck(arrival_rate: float, service_rate: float, servers: int, capacity: int) -> StationMetrics:
    """M/M/c/K: at most ``capacity`` customers present (``capacity >= servers``); the rest are lost.

    Means and percentiles refer to accepted customers; ``utilisation`` is the carried load
    ``throughput / (c mu)``.
    """
    check_rate("arrival_rate", arrival_rate)
    check_rate("service_rate", service_rate)
    check_servers("servers", servers)
    check_servers("capacity", capacity)
    if capacity < servers:
        raise ValueError(f"capacity {capacity} must be >= servers {servers}")
    c, k = int(servers), int(capacity)
    offered_load = arrival_rate / service_rate
    n = np.arange(k + 1)
    # log of a^n / n! for n <= c, and a^c / c! * (a/c)^(n-c) beyond
    log_weight = n * math.log(offered_load) - gammaln(np.minimum(n, c) + 1.0)
    log_weight -= np.maximum(n - c, 0) * math.log(c)
    stationary = np.exp(log_weight - logsumexp(log_weight))
    blocking_prob = float(stationary[-1])
    accepted = 1.0 - blocking_prob
    throughput_per_s = arrival_rate * accepted
    mean_in_system = float(np.dot(n, stationary))
    mean_in_queue = float(np.dot(np.maximum(n - c, 0), stationary))
    arrival_view = stationary[:-1] / accepted
    return StationMetrics(
        utilisation=throughput_per_s / (c * service_rate),
        mean_in_system=mean_in_system,
        mean_in_queue=mean_in_queue,
        mean_response_time_s=mean_in_system / throughput_per_s,
        mean_wait_s=mean_in_queue / throughput_per_s,
        prob_wait=float(arrival_view[c:].sum()),
        throughput_per_s=throughput_per_s,
        blocking_prob=blocking_prob,
        sojourn=MMcKSojournTime(service_rate, c, tuple(float(x) for x in arrival_view)),
    )


def mm1k(arrival_rate: float, service_rate: float, capacity: int) -> StationMetrics:
    """M/M/1/K: ``pi_n = (1 - rho) rho^n / (1 - rho^(K+1))``; stable for any load."""
    return mmck(arrival_rate, service_rate, 1, capacity)
