"""What the Locust process records about every request, in constant memory.

One :class:`Recorder` listens to Locust's ``request`` event (through
``loadtests/locustfiles/archsim_recorder.py``). For the totals it counts, per request name, the
requests *started* in the measurement window ``[warmup, duration)`` (as the simulator does),
their successes and failures, and keeps an HDR histogram of the successes' response times (the
same :class:`~simulator.engine.histogram.LatencyHistogram` as the simulator, so a measured p95 and
a simulated p95 are one definition). For the time series it keeps per interval: requests started,
successes and failures completed, the time-averaged number in flight, and p50/p95/p99 of the
successes completed in it (one histogram, reset at each interval boundary). Memory grows with the
number of request names and intervals, never with the number of requests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..engine.histogram import LatencyHistogram

RECORD_VERSION = 1  #: Format of the recorder's JSON file.
MAX_FAILURE_KINDS = 20  #: Distinct failure messages kept (the rest are counted under "other").


@dataclass
class ClassTotals:
    """One request name over the measurement window."""

    requests: int = 0
    successes: int = 0
    errors: int = 0
    latency_sum_s: float = 0.0  #: Over every request (failures included): the mean time in the system.
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)  #: Successes only.


@dataclass
class Interval:
    ok: int = 0
    failed: int = 0
    started: int = 0
    flight_area: float = 0.0  #: Request-seconds in flight inside this interval.
    percentiles: tuple[float, float, float] = (math.nan, math.nan, math.nan)


class Recorder:
    """Counts and histograms of one test; times are seconds since the test started."""

    def __init__(self, interval_s: float, warmup_s: float, duration_s: float):
        self.interval_s = interval_s
        self.warmup_s = warmup_s
        self.duration_s = duration_s
        self.classes: dict[str, ClassTotals] = {}
        self.intervals = [Interval() for _ in range(max(1, math.ceil(duration_s / interval_s - 1e-9)))]
        self._tick = 0  #: Interval whose latency histogram is open.
        self._tick_latency = LatencyHistogram()
        self.failures: dict[str, int] = {}
        self.late_records = 0  #: Completions after the test's duration (ignored).

    def record(self, name: str, start_s: float, latency_s: float, ok: bool, failure: str | None = None) -> None:
        end_s = start_s + latency_s
        if start_s >= self.duration_s:
            self.late_records += 1
            return
        if self.warmup_s <= start_s:
            totals = self.classes.get(name)
            if totals is None:
                totals = self.classes[name] = ClassTotals()
            totals.requests += 1
            totals.latency_sum_s += latency_s
            if ok:
                totals.successes += 1
                totals.latency.record(latency_s)
            else:
                totals.errors += 1
                key = f"{name}: {failure or 'failed'}"[:200]
                if key in self.failures or len(self.failures) < MAX_FAILURE_KINDS:
                    self.failures[key] = self.failures.get(key, 0) + 1
                else:
                    self.failures["other"] = self.failures.get("other", 0) + 1
        self.intervals[self._index(start_s)].started += 1
        self._add_flight(start_s, end_s)
        done = self._index(end_s)
        if done > self._tick:  # completions arrive in completion order: close the open interval(s)
            self._close_tick()
            self._tick = done
        if end_s >= self.duration_s:
            return
        interval = self.intervals[max(done, self._tick)]
        if ok:
            interval.ok += 1
            self._tick_latency.record(latency_s)
        else:
            interval.failed += 1

    def _index(self, t: float) -> int:
        return min(max(0, int(t // self.interval_s)), len(self.intervals) - 1)

    def _add_flight(self, start_s: float, end_s: float) -> None:
        end_s = min(end_s, self.duration_s)
        i = self._index(start_s)
        while start_s < end_s and i < len(self.intervals):
            boundary = (i + 1) * self.interval_s
            self.intervals[i].flight_area += min(end_s, boundary) - start_s
            start_s = boundary
            i += 1

    def _close_tick(self) -> None:
        hist = self._tick_latency
        if hist.count:
            self.intervals[self._tick].percentiles = (hist.percentile_s(50), hist.percentile_s(95), hist.percentile_s(99))
        hist.reset()

    def result(self, elapsed_s: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Everything recorded, as JSON-ready data (histograms HDR-encoded)."""
        self._close_tick()
        rows = []
        for i, interval in enumerate(self.intervals):
            end = min((i + 1) * self.interval_s, self.duration_s)
            width = end - i * self.interval_s
            if i * self.interval_s >= elapsed_s:
                break  # the test stopped early: no rows for time that never happened
            p50, p95, p99 = interval.percentiles
            rows.append({
                "time_s": round(end, 9), "started": interval.started, "ok": interval.ok, "failed": interval.failed,
                "width_s": width, "in_flight": interval.flight_area / width if width > 0 else math.nan,
                "latency_p50_s": p50, "latency_p95_s": p95, "latency_p99_s": p99,
            })
        return {
            "version": RECORD_VERSION,
            "interval_s": self.interval_s, "warmup_s": self.warmup_s, "duration_s": self.duration_s,
            "elapsed_s": elapsed_s,
            "classes": {
                name: {
                    "requests": t.requests, "successes": t.successes, "errors": t.errors,
                    "latency_sum_s": t.latency_sum_s, "latency_mean_s": t.latency.mean_s,
                    "histogram": t.latency.encode(),
                }
                for name, t in self.classes.items()
            },
            "intervals": rows,
            "failures": dict(self.failures),
            "ignored_after_end": self.late_records,
            **(extra or {}),
        }
