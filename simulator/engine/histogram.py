"""Latency histograms: HdrHistogram storage, recorded in bulk.

Percentiles come from an HDR histogram (Gil Tene's HdrHistogram, via the ``hdrhistogram``
package): microsecond values kept to 3 significant digits, from 1 us to 1 hour, in constant
memory whatever the number of requests, and mergeable across replications. The package records one
value at a time in Python (~1.7 us a value), too slow for the engine's hot path, so this module
buffers values in a plain list and adds them to the histogram's own counts array in one vectorised
step using the same bucket arithmetic (``tests/test_histogram.py`` checks the two agree exactly).
The histogram object stays a genuine ``HdrHistogram``: it encodes, decodes, merges and answers
percentile queries with the library's own code.

This is the one module that touches the library's internals (the ``counts`` array and its
length, the bucket parameters, ``total_count``, ``min_value``/``max_value``); everything else uses
its public API or the functions here. ``tests/test_private_apis.py`` fails with a clear message if
an installed version lays them out differently; ``pyproject.toml`` pins the tested range.
"""

from __future__ import annotations

import math

import numpy as np
from hdrh.histogram import HdrHistogram

LOWEST_US = 1  #: Smallest distinguishable latency, in microseconds.
HIGHEST_US = 3_600_000_000  #: Largest recordable latency (1 hour), in microseconds.
SIGNIFICANT_FIGURES = 3  #: Relative precision 0.1%.

#: Percentiles reported everywhere (matches Locust's columns plus the issue's p99.9).
PERCENTILES = (50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100)


def new_hdr() -> HdrHistogram:
    """An empty histogram with archsim's fixed range and precision."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)


class LatencyHistogram:
    """Streaming latency distribution in seconds; constant memory, bulk updates."""

    __slots__ = ("hdr", "_counts", "_pending", "_flush_at", "_sum_s")

    def __init__(self, flush_at: int = 4096):
        self.hdr = new_hdr()
        self._counts = np.ctypeslib.as_array(self.hdr.counts)
        self._pending: list[float] = []
        self._flush_at = flush_at
        self._sum_s = 0.0  # exact mean, not the bucketed one

    @property
    def pending(self) -> list[float]:
        """The buffer the hot path appends seconds to (call :meth:`flush_if_full` now and then)."""
        return self._pending

    def record(self, seconds: float) -> None:
        """Add one latency (convenience; the engine appends to :attr:`pending` directly)."""
        self._pending.append(seconds)
        if len(self._pending) >= self._flush_at:
            self.flush()

    def flush(self) -> None:
        """Move buffered values into the HDR counts."""
        if not self._pending:
            return
        values = np.asarray(self._pending, dtype=np.float64)
        self._pending.clear()
        self._sum_s += float(values.sum())
        add_to_hdr(self.hdr, self._counts, values)

    def reset(self) -> None:
        """Forget everything (end of warm-up)."""
        self._pending.clear()
        self.hdr.reset()
        self._sum_s = 0.0

    @property
    def count(self) -> int:
        self.flush()
        return int(self.hdr.get_total_count())

    @property
    def mean_s(self) -> float:
        """Exact mean of the recorded values (NaN when empty)."""
        n = self.count
        return self._sum_s / n if n else float("nan")

    def percentile_s(self, p: float) -> float:
        """The ``p``-th percentile in seconds (NaN when empty)."""
        self.flush()
        if self.hdr.get_total_count() == 0:
            return float("nan")
        return self.hdr.get_value_at_percentile(p) / 1e6

    def merge(self, other: "LatencyHistogram") -> None:
        """Add ``other``'s values to this histogram (replications, classes into overall)."""
        self.flush()
        other.flush()
        if other.hdr.get_total_count():
            self.hdr.add(other.hdr)
            self._sum_s += other._sum_s

    def encode(self) -> str:
        """The standard compressed base64 HDR encoding (readable by any HdrHistogram library)."""
        self.flush()
        return self.hdr.encode().decode("ascii")


def empty_counts(hdr: HdrHistogram) -> np.ndarray:
    """A zeroed counts array laid out like ``hdr``'s (for :func:`add_to_hdr` and
    :func:`percentiles_from_counts` on an interval's latencies)."""
    return np.zeros(hdr.counts_len, dtype=np.int64)


def _micros(seconds: np.ndarray) -> np.ndarray:
    us = np.rint(seconds * 1e6).astype(np.int64)
    np.clip(us, 0, HIGHEST_US, out=us)
    return us


def _indices(hdr: HdrHistogram, us: np.ndarray) -> np.ndarray:
    # HdrHistogram bucket arithmetic, vectorised (see HdrHistogram._counts_index_for).
    masked = us | hdr.sub_bucket_mask
    bit_length = np.frexp(masked.astype(np.float64))[1].astype(np.int64)  # exact below 2**53
    bucket = bit_length - hdr.unit_magnitude - (hdr.sub_bucket_half_count_magnitude + 1)
    sub_bucket = us >> (bucket + hdr.unit_magnitude)
    return ((bucket + 1) << hdr.sub_bucket_half_count_magnitude) + (sub_bucket - hdr.sub_bucket_half_count)


def add_to_hdr(hdr: HdrHistogram, counts: np.ndarray, seconds: np.ndarray) -> None:
    """Record many values (in seconds) into ``hdr`` at once, exactly as ``record_value`` would."""
    us = _micros(seconds)
    index = _indices(hdr, us)
    counts += np.bincount(index, minlength=hdr.counts_len)[: hdr.counts_len].astype(counts.dtype)
    hdr.total_count += len(us)
    hdr.min_value = min(hdr.min_value, int(us.min()))
    hdr.max_value = max(hdr.max_value, int(us.max()))


def bucket_values_s(encoded: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(lowest value of each non-empty bucket in seconds, its count) of an HDR encoding, in value
    order; ``None`` if it is empty. Vectorised ``get_value_from_index`` (the library's pure-Python
    iterator is ~100x slower), for the latency CDF charts."""
    if not encoded:
        return None
    hist = HdrHistogram.decode(encoded)
    if hist.get_total_count() <= 0:
        return None
    counts = np.ctypeslib.as_array(hist.counts)[: hist.counts_len].astype(float)
    index = np.flatnonzero(counts)
    half = hist.sub_bucket_half_count_magnitude
    bucket = (index >> half) - 1
    sub_bucket = (index & (hist.sub_bucket_half_count - 1)) + hist.sub_bucket_half_count
    first = bucket < 0
    sub_bucket = np.where(first, sub_bucket - hist.sub_bucket_half_count, sub_bucket)
    bucket = np.where(first, 0, bucket)
    return (sub_bucket << (bucket + hist.unit_magnitude)).astype(float) / 1e6, counts[index]


def _value_at_index(hdr_template: HdrHistogram, index: int) -> float:
    """The value (seconds) HdrHistogram reports for a percentile that falls in bucket ``index``."""
    return hdr_template.get_highest_equivalent_value(hdr_template.get_value_from_index(index)) / 1e6


def percentiles_from_counts(hdr_template: HdrHistogram, counts: np.ndarray, ps: tuple[float, ...]) -> list[float]:
    """Percentiles (seconds) of a bare counts array laid out like ``hdr_template`` (for time series)."""
    total = int(counts.sum())
    if total == 0:
        return [float("nan")] * len(ps)
    cumulative = np.cumsum(counts)
    out = []
    for p in ps:
        target = max(1, int(np.ceil(p / 100.0 * total)))
        out.append(_value_at_index(hdr_template, int(np.searchsorted(cumulative, target))))
    return out


def percentiles_of_values(hdr_template: HdrHistogram, seconds, ps: tuple[float, ...]) -> list[float]:
    """The same percentiles as :func:`percentiles_from_counts` would give once ``seconds`` (a
    sequence of floats) were recorded, computed from the few values themselves: a sort of k values
    instead of a pass over every bucket (a time-series interval usually holds far fewer values than
    buckets). Rounding to microseconds and bucketing never reorder values, so the value of the
    requested rank falls in the bucket a percentile query over the counts would stop at, and that
    bucket's reported value is the library's highest equivalent value of it."""
    total = len(seconds)
    if total == 0:
        return [math.nan] * len(ps)
    ordered = sorted(seconds)
    out = []
    for p in ps:
        us = min(max(round(ordered[max(1, math.ceil(p / 100.0 * total)) - 1] * 1e6), 0), HIGHEST_US)  # as _micros
        out.append(hdr_template.get_highest_equivalent_value(us) / 1e6)
    return out
