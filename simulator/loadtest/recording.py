"""What one Locust process records about every request, in constant memory; and records merged.

One :class:`Recorder` listens to Locust's ``request`` event (through
``loadtests/locustfiles/archsim_shape.py``). Requests are of two kinds:

- **class requests**, named after one of the scenario's request classes: the load the scenario
  describes. They are placed in time by their *arrival* (the due time of an open-model arrival,
  the start of a closed-model request), and an open-model request's latency runs from its due
  time, so a request sent late because every user was busy carries that wait;
- **set-up requests**, any other name (an add-to-cart a flow needs before it can order, a
  log-in): counted apart per name, never folded into a class, never part of the achieved rate.

For the totals it counts, per name, the class requests that arrived in the measurement window
``[warmup, duration)`` (as the simulator does), their successes and failures, and keeps an HDR
histogram of the successes' latencies (the same
:class:`~simulator.engine.histogram.LatencyHistogram` as the simulator, so a measured p95 and a
simulated p95 are one definition). For the time series it keeps per interval: class requests
arrived, successes and failures completed, the time-averaged number in flight, and an HDR
histogram of the successes completed in it. Memory grows with the number of names and intervals,
never with the number of requests.

**Outages.** A run of ``OUTAGE_MIN_FAILURES`` or more connection failures (refused, reset, timed
out: the target did not answer at all) with no success between them is an outage: it starts at
the first of those requests and ends at the first success after it, or never (the target died).
The failures while it lasts are counted, so a run can say "the target stopped answering at 15.2 s;
2,311 requests failed after it".

:func:`merge_records` adds the records of several processes (``--workers N``) into one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from ..engine.histogram import LatencyHistogram, new_hdr
from .pacing import merge_pacing

RECORD_VERSION = 2  #: Format of the recorder's JSON file.
MAX_FAILURE_KINDS = 20  #: Distinct failure messages kept (the rest are counted under "other").
OUTAGE_MIN_FAILURES = 5  #: Consecutive connection failures that make an outage.


@dataclass
class ClassTotals:
    """One request name over the measurement window."""

    requests: int = 0
    successes: int = 0
    errors: int = 0
    latency_sum_s: float = 0.0  #: Over every request (failures included): the mean time in the system.
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)  #: Successes only.

    def add(self, latency_s: float, ok: bool) -> None:
        self.requests += 1
        self.latency_sum_s += latency_s
        if ok:
            self.successes += 1
            self.latency.record(latency_s)
        else:
            self.errors += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests, "successes": self.successes, "errors": self.errors,
            "latency_sum_s": self.latency_sum_s, "latency_mean_s": self.latency.mean_s,
            "histogram": self.latency.encode(),
        }


@dataclass
class Interval:
    ok: int = 0
    failed: int = 0
    started: int = 0
    flight_area: float = 0.0  #: Request-seconds in flight inside this interval.
    histogram: str | None = None  #: HDR encoding of the successes completed in it.


class Recorder:
    """Counts and histograms of one process's test; times are seconds since the test started."""

    def __init__(self, interval_s: float, warmup_s: float, duration_s: float, class_names: list[str]):
        self.interval_s = interval_s
        self.warmup_s = warmup_s
        self.duration_s = duration_s
        self.class_names = set(class_names)
        self.classes: dict[str, ClassTotals] = {}
        self.setup: dict[str, ClassTotals] = {}
        self.intervals = [Interval() for _ in range(max(1, math.ceil(duration_s / interval_s - 1e-9)))]
        self._tick = 0  #: Interval whose latency histogram is open.
        self._tick_latency = LatencyHistogram()
        self.failures: dict[str, int] = {}
        self.late_records = 0  #: Class requests that arrived after the test's duration (ignored).
        self.outages: list[dict[str, Any]] = []
        self._outage: dict[str, Any] | None = None  #: A run of connection failures not yet ended by a success.

    def record(self, name: str, start_s: float, latency_s: float, ok: bool, failure: str | None = None,
               *, connection_failure: bool = False) -> None:
        """One finished request: ``start_s`` is its arrival (class requests) or start (set-up)."""
        self._watch_outage(start_s, ok, connection_failure, failure)
        if not ok and self.warmup_s <= start_s < self.duration_s:  # failure messages of the measurement window
            key = f"{name}: {failure or 'failed'}"[:200]
            if key in self.failures or len(self.failures) < MAX_FAILURE_KINDS:
                self.failures[key] = self.failures.get(key, 0) + 1
            else:
                self.failures["other"] = self.failures.get("other", 0) + 1
        if name not in self.class_names:
            if self.warmup_s <= start_s < self.duration_s:
                totals = self.setup.get(name)
                if totals is None:  # (not setdefault: a new histogram per call is expensive)
                    totals = self.setup[name] = ClassTotals()
                totals.add(latency_s, ok)
            return
        end_s = start_s + latency_s
        if start_s >= self.duration_s:
            self.late_records += 1
            return
        if self.warmup_s <= start_s:
            totals = self.classes.get(name)
            if totals is None:
                totals = self.classes[name] = ClassTotals()
            totals.add(latency_s, ok)
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

    def _watch_outage(self, start_s: float, ok: bool, connection_failure: bool, failure: str | None) -> None:
        outage = self._outage
        if ok:
            if outage is not None:
                if outage["connection_failures"] >= OUTAGE_MIN_FAILURES:
                    outage["to_s"] = start_s
                    self.outages.append(outage)
                self._outage = None
            return
        if outage is None:
            if not connection_failure:
                return
            outage = self._outage = {"from_s": start_s, "to_s": None, "connection_failures": 0, "failed_requests": 0,
                                     "error": (failure or "connection failed")[:200]}
        outage["failed_requests"] += 1
        if connection_failure:
            outage["connection_failures"] += 1
        outage["from_s"] = min(outage["from_s"], start_s)

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
            interval = self.intervals[self._tick]
            if interval.histogram is not None:  # reopened by a straggler: merge
                merged = HdrHistogram.decode(interval.histogram)
                merged.add(hist.hdr)
                interval.histogram = merged.encode().decode("ascii")
            else:
                interval.histogram = hist.encode()
        hist.reset()

    def result(self, elapsed_s: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Everything recorded, as JSON-ready data (histograms HDR-encoded)."""
        self._close_tick()
        rows = []
        for i, interval in enumerate(self.intervals):
            end = min((i + 1) * self.interval_s, self.duration_s)
            if i * self.interval_s >= elapsed_s:
                break  # the test stopped early: no rows for time that never happened
            rows.append({
                "time_s": round(end, 9), "started": interval.started, "ok": interval.ok, "failed": interval.failed,
                "width_s": end - i * self.interval_s, "flight_area": interval.flight_area, "histogram": interval.histogram,
            })
        outages = list(self.outages)
        if self._outage is not None and self._outage["connection_failures"] >= OUTAGE_MIN_FAILURES:
            outages.append(dict(self._outage))  # still down at the end
        return {
            "version": RECORD_VERSION,
            "interval_s": self.interval_s, "warmup_s": self.warmup_s, "duration_s": self.duration_s,
            "elapsed_s": elapsed_s,
            "classes": {name: t.as_dict() for name, t in self.classes.items()},
            "setup": {name: t.as_dict() for name, t in self.setup.items()},
            "intervals": rows,
            "failures": dict(self.failures),
            "outages": outages,
            "ignored_after_end": self.late_records,
            **(extra or {}),
        }


def _merge_totals(parts: list[dict[str, Any]]) -> dict[str, Any]:
    hist = new_hdr()
    ok = sum(p["successes"] for p in parts)
    for p in parts:
        if p["successes"]:
            hist.add(HdrHistogram.decode(p["histogram"]))
    mean = sum((p["latency_mean_s"] or 0.0) * p["successes"] for p in parts if p["successes"]) / ok if ok else math.nan
    return {
        "requests": sum(p["requests"] for p in parts), "successes": ok, "errors": sum(p["errors"] for p in parts),
        "latency_sum_s": sum(p["latency_sum_s"] for p in parts), "latency_mean_s": mean,
        "histogram": hist.encode().decode("ascii"),
    }


def _merge_outages(outages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overlapping outages seen by several processes are one outage of the target."""
    merged: list[dict[str, Any]] = []
    for o in sorted(outages, key=lambda o: o["from_s"]):
        last = merged[-1] if merged else None
        if last is not None and (last["to_s"] is None or o["from_s"] <= last["to_s"]):
            last["to_s"] = None if last["to_s"] is None or o["to_s"] is None else max(last["to_s"], o["to_s"])
            last["connection_failures"] += o["connection_failures"]
            last["failed_requests"] += o["failed_requests"]
        else:
            merged.append(dict(o))
    return merged


def merge_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """One record from the records of several processes of the same test (counts add, histograms
    merge, outages that overlap are one)."""
    if len(records) == 1:
        return records[0]
    first = records[0]
    out = {key: first[key] for key in ("version", "interval_s", "warmup_s", "duration_s")}
    out["elapsed_s"] = max(r["elapsed_s"] for r in records)
    for kind in ("classes", "setup"):
        names = list(dict.fromkeys(n for r in records for n in r.get(kind, {})))
        out[kind] = {n: _merge_totals([r[kind][n] for r in records if n in r.get(kind, {})]) for n in names}
    rows: list[dict[str, Any]] = []
    longest = max(records, key=lambda r: len(r["intervals"]))
    for i, template in enumerate(longest["intervals"]):
        parts = [r["intervals"][i] for r in records if i < len(r["intervals"])]
        hist = new_hdr()
        for p in parts:
            if p["histogram"]:
                hist.add(HdrHistogram.decode(p["histogram"]))
        rows.append({
            "time_s": template["time_s"], "width_s": template["width_s"],
            **{key: sum(p[key] for p in parts) for key in ("started", "ok", "failed", "flight_area")},
            "histogram": hist.encode().decode("ascii") if hist.get_total_count() else None,
        })
    out["intervals"] = rows
    failures: dict[str, int] = {}
    for r in records:
        for key, count in r.get("failures", {}).items():
            failures[key] = failures.get(key, 0) + count
    out["failures"] = failures
    out["outages"] = _merge_outages([o for r in records for o in r.get("outages", [])])
    out["ignored_after_end"] = sum(r.get("ignored_after_end", 0) for r in records)
    out["pacing"] = merge_pacing([r.get("pacing") or {} for r in records])
    out["processes"] = len(records)
    for key in ("locust_version",):
        if key in first:
            out[key] = first[key]
    return out
