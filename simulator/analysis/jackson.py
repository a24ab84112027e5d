"""Open Jackson networks: M/M/c stations joined by probabilistic routing (Jackson 1963).

A customer arrives from outside at station ``i`` at rate ``gamma_i``; after service at ``i`` it
moves to ``j`` with probability ``P[i][j]`` and leaves with probability ``1 - sum_j P[i][j]``.
The total arrival rates solve the traffic equations

    lambda = gamma + P^T lambda,   i.e.   (I - P^T) lambda = gamma,

and, by Jackson's theorem, the stationary distribution is a product of independent M/M/c
marginals, so each station is analysed as an M/M/c at rate ``lambda_i`` (Kleinrock 1975,
sec. 4.8; Harchol-Balter 2013, ch. 17). Network totals follow from Little's law: the mean
sojourn of an external arrival is ``sum_i L_i / sum_i gamma_i``; the visit ratio
``V_i = lambda_i / sum(gamma)`` is the mean number of visits a customer makes to ``i``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from simulator.analysis.single_station import StationMetrics, check_rate, check_servers, mmc

ROUTING_TOLERANCE = 1e-9  #: Slack allowed on routing row sums and probabilities.
SINGULAR_CONDITION = 1e12  #: Condition number of I - P^T above which routing counts as closed.


@dataclass(frozen=True)
class JacksonNetworkMetrics:
    """Per-station M/M/c metrics and network totals of an open Jackson network."""

    station_names: tuple[str, ...]  #: One name per station, in input order.
    arrival_rates_per_s: tuple[float, ...]  #: lambda_i: total arrivals at each station (external + routed).
    visit_ratios: tuple[float, ...]  #: V_i = lambda_i / sum(gamma): mean visits per customer.
    stations: tuple[StationMetrics, ...]  #: M/M/c metrics of each station at rate lambda_i.
    throughput_per_s: float  #: sum(gamma): customers entering (and, in steady state, leaving) per second.
    mean_in_system: float  #: sum_i L_i: mean customers anywhere in the network.
    mean_sojourn_s: float  #: Mean time from entering to leaving the network (Little's law).

    def station(self, name: str) -> StationMetrics:
        """Metrics of the station called ``name``."""
        return self.stations[self.station_names.index(name)]


def solve_traffic_equations(external_arrival_rates: Sequence[float], routing: Sequence[Sequence[float]]) -> np.ndarray:
    """Total arrival rate at each station: the solution of ``(I - P^T) lambda = gamma``.

    Raises ValueError if the routing is malformed or singular (some customers can never leave).
    """
    gamma = np.asarray(external_arrival_rates, dtype=float)
    p = np.asarray(routing, dtype=float)
    size = len(gamma)
    if gamma.ndim != 1 or size == 0:
        raise ValueError("external_arrival_rates must be a non-empty vector")
    if p.shape != (size, size):
        raise ValueError(f"routing must be a {size}x{size} matrix, got shape {p.shape}")
    if not (np.isfinite(gamma).all() and (gamma >= 0).all()) or gamma.sum() <= 0:
        raise ValueError("external_arrival_rates must be >= 0, finite, and not all zero")
    if not np.isfinite(p).all() or (p < -ROUTING_TOLERANCE).any():
        raise ValueError("routing probabilities must be finite and >= 0")
    row_sums = p.sum(axis=1)
    over = np.flatnonzero(row_sums > 1.0 + ROUTING_TOLERANCE)
    if len(over):
        i = int(over[0])
        raise ValueError(f"routing row {i} sums to {row_sums[i]:.6g} > 1")
    system = np.eye(size) - p.T
    if np.linalg.cond(system) > SINGULAR_CONDITION:
        raise ValueError("singular routing: some customers can never leave the network")
    # (I - P^T)^-1 = sum_k (P^T)^k >= 0, so a negative rate is round-off at a station nobody reaches
    return np.clip(np.linalg.solve(system, gamma), 0.0, None)


def jackson_network(
    external_arrival_rates: Sequence[float],
    routing: Sequence[Sequence[float]],
    service_rates: Sequence[float],
    servers: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
) -> JacksonNetworkMetrics:
    """Analyse an open Jackson network.

    ``external_arrival_rates[i]`` (gamma_i, per s), ``routing[i][j]`` (P, row sums <= 1, the
    remainder exits), ``service_rates[i]`` (mu_i per server, per s), ``servers[i]`` (c_i,
    default 1), ``names[i]`` (default ``"station_<i>"``). A station no customer reaches is
    reported idle (zero load, response time one service time).
    """
    arrival_rates = solve_traffic_equations(external_arrival_rates, routing)
    size = len(arrival_rates)
    servers = [1] * size if servers is None else list(servers)
    names = [f"station_{i}" for i in range(size)] if names is None else [str(n) for n in names]
    for label, values in (("service_rates", service_rates), ("servers", servers), ("names", names)):
        if len(values) != size:
            raise ValueError(f"{label} has {len(values)} entries, expected {size}")
    if len(set(names)) != size:
        raise ValueError("station names must be unique")

    stations = []
    for i, (rate, mu, c, name) in enumerate(zip(arrival_rates, service_rates, servers, names)):
        check_rate(f"service_rates[{i}]", mu)
        check_servers(f"servers[{i}]", c)
        rho = rate / (c * mu)
        if rho >= 1.0:
            raise ValueError(f"unstable: station {i} ({name}) utilisation {rho:.3f} >= 1")
        stations.append(_idle(mu) if rate == 0.0 else mmc(float(rate), mu, c))

    throughput_per_s = float(np.sum(external_arrival_rates))
    mean_in_system = sum(s.mean_in_system for s in stations)
    return JacksonNetworkMetrics(
        station_names=tuple(names),
        arrival_rates_per_s=tuple(float(x) for x in arrival_rates),
        visit_ratios=tuple(float(x) / throughput_per_s for x in arrival_rates),
        stations=tuple(stations),
        throughput_per_s=throughput_per_s,
        mean_in_system=mean_in_system,
        mean_sojourn_s=mean_in_system / throughput_per_s,
    )


def _idle(service_rate: float) -> StationMetrics:
    """A station with no traffic: nothing waits, a hypothetical customer takes one service time."""
    return StationMetrics(
        utilisation=0.0,
        mean_in_system=0.0,
        mean_in_queue=0.0,
        mean_response_time_s=1.0 / service_rate,
        mean_wait_s=0.0,
        prob_wait=0.0,
        throughput_per_s=0.0,
    )
