"""Bulk recording into the HDR histogram is exactly what HdrHistogram's own record_value does."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.engine.histogram import LatencyHistogram, new_hdr, percentiles_from_counts


def test_bulk_recording_equals_one_value_at_a_time():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.exponential(0.01, 50_000), rng.lognormal(0, 2, 2_000), [0.0, 1e-7, 3599.0]])
    bulk = LatencyHistogram()
    for v in values.tolist():
        bulk.record(v)
    reference = new_hdr()
    for v in values.tolist():
        reference.record_value(int(round(v * 1e6)))
    bulk.flush()
    assert np.array_equal(np.ctypeslib.as_array(reference.counts), np.ctypeslib.as_array(bulk.hdr.counts))
    assert bulk.count == reference.get_total_count()
    for p in (50, 95, 99, 99.9):
        assert bulk.percentile_s(p) == reference.get_value_at_percentile(p) / 1e6


def test_percentiles_are_within_a_tenth_of_a_percent():
    values = np.random.default_rng(1).exponential(0.1, 100_000)
    hist = LatencyHistogram()
    for v in values.tolist():
        hist.record(v)
    for p in (50, 90, 99):
        assert hist.percentile_s(p) == pytest.approx(np.percentile(values, p), rel=2e-3)
    assert hist.mean_s == pytest.approx(values.mean(), rel=1e-12)


def test_merge_and_encode_round_trip():
    a, b = LatencyHistogram(), LatencyHistogram()
    for v in (0.001, 0.002):
        a.record(v)
    b.record(0.5)
    a.merge(b)
    assert a.count == 3
    from hdrh.histogram import HdrHistogram

    decoded = HdrHistogram.decode(a.encode())
    assert decoded.get_total_count() == 3
    assert decoded.get_max_value() == pytest.approx(500_000, rel=1e-3)


def test_memory_is_constant_in_the_number_of_values():
    hist = LatencyHistogram()
    for v in np.random.default_rng(0).exponential(0.01, 100_000).tolist():
        hist.record(v)
    assert len(hist.pending) < 4096  # the buffer is flushed; counts live in a fixed array


def test_percentiles_from_bare_counts_match_the_histogram():
    hist = LatencyHistogram()
    for v in np.random.default_rng(5).exponential(0.02, 10_000).tolist():
        hist.record(v)
    hist.flush()
    counts = np.ctypeslib.as_array(hist.hdr.counts).astype(np.int64)
    p50, p95 = percentiles_from_counts(hist.hdr, counts, (50.0, 95.0))
    assert p50 == hist.percentile_s(50)
    assert p95 == hist.percentile_s(95)


def test_interval_percentiles_from_the_values_themselves_match_the_bucketed_ones():
    # the time series computes a short interval's percentiles from its few values; they must be
    # exactly what the HDR counts would give
    from simulator.engine.histogram import add_to_hdr, new_hdr, percentiles_from_counts, percentiles_of_values

    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 17, 1000):
        values = rng.lognormal(-5, 1.5, n)
        template = new_hdr()
        counts = np.zeros(template.counts_len, dtype=np.int64)
        add_to_hdr(template, counts, values)
        ps = (50.0, 95.0, 99.0, 100.0)
        assert percentiles_of_values(new_hdr(), values, ps) == percentiles_from_counts(template, counts, ps)
        assert percentiles_of_values(new_hdr(), values.tolist(), ps) == percentiles_from_counts(template, counts, ps)


def test_interval_percentiles_agree_at_bucket_edges_half_microseconds_and_the_range_ends():
    # values on half-microsecond ties (rounded half to even by both paths), at 0, at the top of
    # the range and beyond it (clipped to 1 hour), and on the edges of HDR's buckets
    from simulator.engine.histogram import add_to_hdr, new_hdr, percentiles_from_counts, percentiles_of_values

    template = new_hdr()
    edges_us = [template.get_highest_equivalent_value(v) for v in (1, 2047, 2048, 4095, 4096, 10**6, 10**9)]
    values = [0.0, 0.5e-6, 1.5e-6, 2.5e-6, 1e-6, 3600.0, 4000.0] + [u / 1e6 for u in edges_us] + [(u + 1) / 1e6 for u in edges_us]
    ps = tuple(float(p) for p in range(0, 101, 5)) + (99.9, 99.99)
    for n in range(1, len(values) + 1):
        subset = values[:n]
        template = new_hdr()
        counts = np.zeros(template.counts_len, dtype=np.int64)
        add_to_hdr(template, counts, np.asarray(subset))
        assert percentiles_of_values(new_hdr(), subset, ps) == percentiles_from_counts(template, counts, ps)
