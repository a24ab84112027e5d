"""Exact closed-network solution by normalising constants (Buzen's convolution), in log space.

Used by :func:`simulator.analysis.mva.mva` when a station has several servers. The
load-dependent MVA recursion gives the same numbers in exact arithmetic, but it updates
marginal probabilities that become tiny in saturation, and in floating point its round-off
grows from one population to the next (a 16-server station at N = 100 drifts from X = 16
to X = 5.6). The product form evaluated in logarithms has no such feedback.

Product form (Lazowska et al. 1984, ch. 8; Buzen 1973): with ``N`` customers,
``P(n_1..n_K) = prod_k f_k(n_k) / G(N)`` where

* queueing station, ``c`` servers: ``f(j) = D^j / prod_{i=1}^{j} min(i, c)``;
* delay station (and the think time Z): ``f(j) = D^j / j!``;
* ``G(n) = (f_1 * f_2 * ... * f_K)(n)``, a discrete convolution.

Then ``X(n) = G(n-1) / G(n)`` and ``Q_k(n) = sum_j j f_k(j) G_{-k}(n-j) / G(n)``, where
``G_{-k}`` is the constant of the network without station ``k`` (prefix and suffix
convolutions, so it costs 3K convolutions rather than K^2). Each convolution is
``O(N^2)``, against ``O(N K)`` for plain MVA.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.special import gammaln


def log_station_weights(service_demand_s: float, servers: int | None, population: int) -> np.ndarray:
    """``log f(j)`` for ``j = 0..population``; ``servers=None`` means a delay (infinite-server) station."""
    j = np.arange(population + 1)
    if servers is None:
        return j * math.log(service_demand_s) - gammaln(j + 1.0)
    served = gammaln(np.minimum(j, servers) + 1.0) + np.maximum(j - servers, 0) * math.log(servers)
    return j * math.log(service_demand_s) - served


CONVOLUTION_ROWS = 256  #: Output rows per vectorised block; bounds memory at 256 x (N + 1) floats.


def log_convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log((exp(a) * exp(b))(n))`` for ``n = 0..len(a)-1``, without leaving log space."""
    size = len(a)
    j = np.arange(size)
    out = np.empty(size)
    for start in range(0, size, CONVOLUTION_ROWS):
        n = np.arange(start, min(start + CONVOLUTION_ROWS, size))[:, None]
        lag = n - j  # b index for each (n, j); negative lags are outside the sum
        terms = np.where(lag >= 0, a[j] + b[np.maximum(lag, 0)], -np.inf)
        top = terms.max(axis=1)
        finite_top = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            out[start : start + len(n)] = finite_top + np.log(np.exp(terms - finite_top[:, None]).sum(axis=1))
    return out


def solve_by_convolution(
    service_demands_s: Sequence[float],
    servers: Sequence[int | None],
    population: int,
    think_time_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Throughput ``X(n)``, shape (N,), and queue lengths ``Q_k(n)``, shape (N, K), for n = 1..N."""
    weights = [log_station_weights(d, c, population) for d, c in zip(service_demands_s, servers)]
    unit = np.full(population + 1, -np.inf)
    unit[0] = 0.0  # log of the identity for convolution
    think = log_station_weights(think_time_s, None, population) if think_time_s > 0 else unit

    prefixes = [think]  # prefixes[k]: think time and stations before k
    for w in weights:
        prefixes.append(log_convolve(prefixes[-1], w))
    suffixes = [unit]  # suffixes[i]: the last i stations
    for w in reversed(weights):
        suffixes.append(log_convolve(suffixes[-1], w))
    log_g = prefixes[-1]
    throughput = np.exp(log_g[:-1] - log_g[1:])

    size = len(weights)
    j = np.arange(population + 1)
    queue_lengths = np.empty((population, size))
    with np.errstate(divide="ignore"):
        log_j = np.log(j)
    for k, w in enumerate(weights):
        log_g_without_k = log_convolve(prefixes[k], suffixes[size - 1 - k])
        queue_lengths[:, k] = np.exp(log_convolve(log_j + w, log_g_without_k) - log_g)[1:]
    return throughput, queue_lengths
