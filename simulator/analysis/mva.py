"""Exact Mean Value Analysis (MVA) of a closed, single-class, product-form network.

``N`` customers (users, connections, worker threads) circulate: they think for ``Z`` seconds,
then visit stations, each visit costing service demand ``D_k = V_k * S_k`` (visit ratio times
mean service time per visit). Stations are either

* queueing stations with ``c_k`` identical servers (FCFS with exponential service, or PS), or
* delay stations (infinite servers: pure latency, e.g. a network hop, nobody ever waits).

Two exact algorithms give the same product-form solution:

* Single-server and delay stations only: MVA (Reiser & Lavenberg 1980; Lazowska et al.,
  *Quantitative System Performance*, 1984, ch. 6). By the arrival theorem an arriving customer
  sees the network in equilibrium with ``n - 1`` customers, so ``R_k(n) = D_k (1 + Q_k(n-1))``
  at a queue and ``R_k(n) = D_k`` at a delay station; ``X(n) = n / (Z + sum_k R_k(n))`` and
  ``Q_k(n) = X(n) R_k(n)`` (Little). ``O(N K)``.
* Any station with ``c > 1`` servers: load-dependent MVA (Lazowska ch. 20) is exact on paper
  but numerically unstable in saturation, so the same quantities come from normalising
  constants in log space (:mod:`simulator.analysis.convolution`). ``O(N^2 K)``.

The response time ``R(n) = sum_k R_k(n)`` includes delay stations but not the think time ``Z``;
the cycle time is ``R(n) + Z = n / X(n)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from simulator.analysis.convolution import solve_by_convolution
from simulator.analysis.single_station import check_rate, check_servers


@dataclass(frozen=True)
class QueueingStation:
    """A station where customers queue for ``servers`` identical servers (FCFS-exponential or PS)."""

    name: str
    service_demand_s: float  #: D_k = visit ratio * mean service time per visit.
    servers: int = 1  #: c_k: identical servers (cores, workers) sharing one queue.


@dataclass(frozen=True)
class DelayStation:
    """An infinite-server station: every customer spends ``service_demand_s`` there, never waits."""

    name: str
    service_demand_s: float  #: D_k = visit ratio * mean delay per visit.


@dataclass(frozen=True)
class MvaPopulationMetrics:
    """The network at one population ``n``."""

    population: int  #: n, customers in the closed network.
    throughput_per_s: float  #: X(n), system throughput (completed cycles per second).
    response_time_s: float  #: R(n), time per cycle outside think time.
    cycle_time_s: float  #: R(n) + Z = n / X(n).
    queue_lengths: dict[str, float]  #: Q_k(n), mean customers at each station.
    residence_times_s: dict[str, float]  #: R_k(n), time per cycle spent at each station.
    utilisations: dict[str, float]  #: X(n) D_k / c_k per server; NaN for delay stations.


@dataclass(frozen=True)
class MvaSolution:
    """MVA results for every population ``n = 1..N``; row ``n - 1`` of each array is population ``n``."""

    station_names: tuple[str, ...]  #: Station order of the per-station columns.
    think_time_s: float  #: Z, excluded from the response time.
    populations: np.ndarray  #: 1..N.
    throughput_per_s: np.ndarray  #: X(n), shape (N,).
    response_time_s: np.ndarray  #: R(n), shape (N,).
    cycle_time_s: np.ndarray  #: R(n) + Z, shape (N,).
    queue_lengths: np.ndarray  #: Q_k(n), shape (N, K).
    residence_times_s: np.ndarray  #: R_k(n), shape (N, K).
    utilisations: np.ndarray  #: X(n) D_k / c_k, shape (N, K); NaN for delay stations.

    def at(self, population: int) -> MvaPopulationMetrics:
        """The metrics at population ``n``, per station keyed by name."""
        if not 1 <= population <= len(self.populations):
            raise ValueError(f"population must be in 1..{len(self.populations)}, got {population}")
        row = population - 1

        def by_name(table: np.ndarray) -> dict[str, float]:
            return {name: float(v) for name, v in zip(self.station_names, table[row])}

        return MvaPopulationMetrics(
            population=population,
            throughput_per_s=float(self.throughput_per_s[row]),
            response_time_s=float(self.response_time_s[row]),
            cycle_time_s=float(self.cycle_time_s[row]),
            queue_lengths=by_name(self.queue_lengths),
            residence_times_s=by_name(self.residence_times_s),
            utilisations=by_name(self.utilisations),
        )


def mva(
    stations: Sequence[QueueingStation | DelayStation],
    population: int,
    think_time_s: float = 0.0,
) -> MvaSolution:
    """Exact single-class MVA for populations ``1..population``; multi-server stations exactly."""
    _validate(stations, population, think_time_s)
    names = tuple(s.name for s in stations)
    demands = np.array([s.service_demand_s for s in stations], dtype=float)
    is_delay = np.array([isinstance(s, DelayStation) for s in stations])
    servers = [1 if isinstance(s, DelayStation) else int(s.servers) for s in stations]
    if all(c == 1 for c in servers):
        throughput, queue_lengths = _mean_value_recursion(demands, is_delay, population, think_time_s)
    else:
        servers_or_delay = [None if delay else c for delay, c in zip(is_delay, servers)]
        throughput, queue_lengths = solve_by_convolution(demands, servers_or_delay, population, think_time_s)
    residence = queue_lengths / throughput[:, None]  # Little's law per station

    utilisations = np.outer(throughput, demands / np.array(servers, dtype=float))
    utilisations[:, is_delay] = np.nan
    response = residence.sum(axis=1)
    arrays = dict(
        populations=np.arange(1, population + 1),
        throughput_per_s=throughput,
        response_time_s=response,
        cycle_time_s=response + think_time_s,
        queue_lengths=queue_lengths,
        residence_times_s=residence,
        utilisations=utilisations,
    )
    for array in arrays.values():
        array.setflags(write=False)
    return MvaSolution(station_names=names, think_time_s=think_time_s, **arrays)


def _mean_value_recursion(
    demands: np.ndarray, is_delay: np.ndarray, population: int, think_time_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Reiser-Lavenberg MVA for single-server and delay stations: X(n), shape (N,); Q_k(n), shape (N, K)."""
    throughput = np.empty(population)
    queue_lengths = np.empty((population, len(demands)))
    queue = np.zeros(len(demands))
    for n in range(1, population + 1):
        residence = np.where(is_delay, demands, demands * (1.0 + queue))
        x = n / (think_time_s + residence.sum())
        queue = x * residence
        throughput[n - 1], queue_lengths[n - 1] = x, queue
    return throughput, queue_lengths


def _validate(stations: Sequence[QueueingStation | DelayStation], population: int, think_time_s: float) -> None:
    if not stations:
        raise ValueError("a closed network needs at least one station")
    check_servers("population", population)
    if not (math.isfinite(think_time_s) and think_time_s >= 0):
        raise ValueError(f"think_time_s must be >= 0 and finite, got {think_time_s!r}")
    for s in stations:
        if not isinstance(s, (QueueingStation, DelayStation)):
            raise ValueError(f"expected a QueueingStation or DelayStation, got {s!r}")
        check_rate(f"service_demand_s of {s.name}", s.service_demand_s)
        if isinstance(s, QueueingStation):
            check_servers(f"servers of {s.name}", s.servers)
    names = [s.name for s in stations]
    if len(set(names)) != len(names):
        raise ValueError("station names must be unique")
