"""Queueing theory the engine must agree with: exact steady-state numbers for stations and networks.

Pure functions over plain numbers (no SimPy). Rates are per second, times in seconds;
percentiles are fractions (0.95 is the p95).

* :mod:`~simulator.analysis.single_station` -- one station (Kleinrock 1975, vol. 1, ch. 3 and 5;
  Harchol-Balter 2013, ch. 13-14, 23). ``rho = lambda / (c mu)``; M/M/c by Erlang C computed
  from the Erlang B recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, ``C = B / (1 - rho (1 - B))``,
  ``Wq = C / (c mu - lambda)``; M/G/1 by Pollaczek-Khinchine ``Wq = lambda E[S^2] / (2 (1 - rho))``;
  M/M/c/K from its birth-death distribution (blocking ``pi_K``, throughput ``lambda (1 - pi_K)``).
  Little's law ``L = lambda W`` links the means.
* :mod:`~simulator.analysis.sojourn` -- exact response- and waiting-time distributions of
  M/M/c and M/M/c/K, for percentiles (M/M/1: sojourn ~ Exp(mu - lambda)).
* :mod:`~simulator.analysis.jackson` -- open Jackson networks (Jackson 1963; Kleinrock sec. 4.8):
  traffic equations ``lambda = gamma + P^T lambda``, each station an independent M/M/c.
* :mod:`~simulator.analysis.mva` -- closed single-class product-form networks by exact Mean
  Value Analysis (Reiser & Lavenberg 1980; Lazowska et al., *Quantitative System Performance*,
  1984, ch. 6): ``R_k(n) = D_k (1 + Q_k(n-1))``, ``X(n) = n / (Z + sum R_k(n))``. Multi-server
  stations are solved exactly through log-space normalising constants
  (:mod:`~simulator.analysis.convolution`; Buzen 1973), because load-dependent MVA is
  numerically unstable in saturation.

Unstable or invalid input raises :class:`ValueError` with an exact message, e.g.
``unstable: utilisation 1.250 >= 1``.
"""

from simulator.analysis.jackson import JacksonNetworkMetrics, jackson_network, solve_traffic_equations
from simulator.analysis.mva import DelayStation, MvaPopulationMetrics, MvaSolution, QueueingStation, mva
from simulator.analysis.single_station import (
    StationMetrics,
    erlang_b,
    erlang_c,
    md1,
    mg1,
    mm1,
    mm1k,
    mmc,
    mmck,
)
from simulator.analysis.sojourn import MMcKSojournTime, MMcSojournTime

__all__ = [
    "DelayStation",
    "JacksonNetworkMetrics",
    "MMcKSojournTime",
    "MMcSojournTime",
    "MvaPopulationMetrics",
    "MvaSolution",
    "QueueingStation",
    "StationMetrics",
    "erlang_b",
    "erlang_c",
    "jackson_network",
    "md1",
    "mg1",
    "mm1",
    "mm1k",
    "mmc",
    "mmck",
    "mva",
    "solve_traffic_equations",
]
