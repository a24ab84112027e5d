"""What one replication measures, in constant memory per request.

Per request class: arrivals (the offered load), successes, errors, timeouts, requests still
unfinished at the end, and the latency distribution of the successes (an HDR histogram fed in
bulk). For the system: the time-average number of requests in flight (for Little's law), and a
time series at a fixed interval (offered load, throughput, latency percentiles, in-flight,
per-service utilisation and queue length). Per service: utilisation, mean queue length (every
waiting request: for a slot or, holding one, for a core), mean number at the service (waiting or
served), throughput and rejections, from time-weighted integrals kept by the instances.

Only requests that *arrive* after the warm-up are counted in the totals (so the transient does not
bias latency); the time series covers the whole run so that charts show the warm-up too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ArchsimError
from .station import NO_COUNTERS, Counters
from .histogram import LatencyHistogram, add_to_hdr, empty_counts, new_hdr, percentiles_from_counts, percentiles_of_values

#: Requests in the system at once beyond which a run stops: an overloaded system with unbounded
#: queues would otherwise grow until memory runs out (each waiting request is an object).
MAX_IN_FLIGHT = 1_000_000


class Overloaded(ArchsimError):
    """The system cannot keep up and its queues are unbounded: stop with a message, not a crash."""

    def __init__(self, in_flight: int, now: float, services: dict):
        busiest = max(services.values(), key=lambda s: sum(len(i.waiting) for i in s.instances), default=None)
        where = f"; the longest queue is at '{busiest.name}'" if busiest is not None else ""
        unbounded = [s.name for s in services.values() if s.queue_capacity is None]
        advice = (
            f"capacity and the queues of {', '.join(unbounded[:5])}{' ...' if len(unbounded) > 5 else ''} are unbounded: "
            "lower the rate, add capacity or bound the queues (services.<name>.queue)"
            if unbounded
            else "capacity (every queue is bounded; the requests wait in delays, timeouts or async calls): lower the rate or add capacity"
        )
        super().__init__(f"overloaded: {in_flight:,} requests in the system at t={now:g}s{where}; the load exceeds {advice}")


NO_LEVELS = (0.0, 0.0, 0.0, 0, 0.0)  #: A service's integrals before anything happened.

TICK_PERCENTILES = (50.0, 95.0, 99.0)  #: Latency percentiles of each time-series row.

#: Latency percentiles in summaries: key -> percentile.
SUMMARY_PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


class ClassStats:
    """Counters and latency histograms of one request class."""

    __slots__ = ("name", "arrived", "ok", "errors", "timeouts", "latency", "async_latency", "sojourn_sum_s", "finished")

    def __init__(self, name: str):
        self.name = name
        self.arrived = 0  # requests that arrived in the measured window (finished or not)
        self.ok = 0
        self.errors = 0
        self.timeouts = 0
        self.latency = LatencyHistogram()  # successful requests
        self.async_latency = LatencyHistogram()  # end of fire-and-forget work, from the request's start
        self.sojourn_sum_s = 0.0  # every finished request, failed ones too (Little's law)
        self.finished = 0


@dataclass
class ReplicationResult:
    """Everything one replication measured (plain data, picklable, JSON-friendly)."""

    replication: int
    measured_s: float
    classes: dict[str, dict[str, Any]]
    overall: dict[str, Any]
    services: dict[str, dict[str, Any]]
    system: dict[str, Any]
    timeseries: list[dict[str, Any]]
    histograms: dict[str, str] = field(default_factory=dict)  # class -> HDR encoding ("*" = overall)
    async_histograms: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  #: Extension metrics (platforms: cost, start-ups...), nested numbers.
    wall_time_s: float = 0.0
    events_scheduled: int = 0  #: SimPy events scheduled in the replication (a measure of work done).


class Recorder:
    """Collects one replication's measurements; the engine calls it on every request start and end."""

    def __init__(self, env, class_names: list[str], timeouts: list[float | None], services: dict, warmup_s: float, interval_s: float):
        self.env = env
        self.classes = [ClassStats(name) for name in class_names]
        self.timeouts = timeouts
        self.services = services
        self.warmup_s = warmup_s
        self.interval_s = interval_s
        # in-flight requests, time-weighted
        self.in_flight = 0
        self.flight_area = 0.0
        self.flight_t = 0.0
        # current time-series interval
        self._hdr_template = new_hdr()
        self._tick_counts = empty_counts(self._hdr_template)
        self._tick_latencies: list[float] = []
        self._tick_flushed = False  # some of this interval's latencies are in _tick_counts
        self._tick_ok = 0
        self._tick_failed = 0
        self._tick_started = 0
        self._tick_t = 0.0
        self._tick_area = 0.0
        # counters keep growing through warm-up; these are their values when it ended
        self._flight_base = 0.0
        self._instance_base: dict = {}  # Instance -> Counters (instances born later start from 0)
        self._no_backend_base: dict[str, int] = {}
        self._svc_marks: dict[str, tuple[float, float, float, int]] = {}
        self.rows: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []  #: Marked moments (spikes, crashes, rollouts) for charts.
        self.extensions: list = []  #: The simulation's :class:`~.extension.Extension`s: columns per tick, extras at the end.

    # --- hot path ------------------------------------------------------------------------------

    def started(self, request) -> None:
        now = self.env.now
        self.flight_area += self.in_flight * (now - self.flight_t)
        self.flight_t = now
        self.in_flight += 1
        self._tick_started += 1
        if now >= self.warmup_s:
            self.classes[request.cls].arrived += 1
        if self.in_flight > MAX_IN_FLIGHT:
            raise Overloaded(self.in_flight, now, self.services)

    def finished(self, request, ok: bool) -> None:
        """The client has its answer (or an error)."""
        if request.state != 0:  # already given up on (closed-model timeout)
            return
        request.state = 1
        now = self.env.now
        self.flight_area += self.in_flight * (now - self.flight_t)
        self.flight_t = now
        self.in_flight -= 1
        latency = now - request.t0
        timeout = self.timeouts[request.cls]
        timed_out = timeout is not None and latency > timeout
        if ok and not timed_out:
            self._tick_ok += 1
            tick_latencies = self._tick_latencies
            tick_latencies.append(latency)
            if len(tick_latencies) >= 4096:  # constant memory whatever the interval
                add_to_hdr(self._hdr_template, self._tick_counts, np.asarray(tick_latencies))
                tick_latencies.clear()
                self._tick_flushed = True
        else:
            self._tick_failed += 1
        if request.t0 >= self.warmup_s:
            stats = self.classes[request.cls]
            stats.finished += 1
            if timed_out:
                stats.timeouts += 1
                stats.sojourn_sum_s += latency  # it stayed in the system that long (in-flight agrees)
            else:
                stats.sojourn_sum_s += latency
                if ok:
                    stats.ok += 1
                    pending = stats.latency._pending
                    pending.append(latency)
                    if len(pending) >= 4096:
                        stats.latency.flush()
                else:
                    stats.errors += 1
        if request.user is not None:
            request.user.source.answered(request)

    def timed_out(self, request) -> None:
        """A closed-model user gave up waiting (the request itself carries on in the system)."""
        now = self.env.now
        self.flight_area += self.in_flight * (now - self.flight_t)
        self.flight_t = now
        self.in_flight -= 1
        self._tick_failed += 1
        if request.t0 >= self.warmup_s:
            stats = self.classes[request.cls]
            stats.finished += 1
            stats.timeouts += 1
            stats.sojourn_sum_s += self.timeouts[request.cls]

    def async_done(self, request, ok: bool) -> None:
        """A fire-and-forget branch finished: its end-to-end latency from the request's start."""
        if request.t0 >= self.warmup_s and ok:
            self.classes[request.cls].async_latency.record(self.env.now - request.t0)

    # --- warm-up and time series -----------------------------------------------------------------

    def end_warmup(self) -> None:
        """Take the baseline the totals are measured from. Nothing is reset: the time series and
        the controllers (autoscalers, rollouts) keep reading counters that only grow."""
        now = self.env.now
        self.flight_area += self.in_flight * (now - self.flight_t)
        self.flight_t = now
        self._flight_base = self.flight_area
        for name, service in self.services.items():
            for instance in service.all_instances():
                self._instance_base[instance] = instance.counters(now)
            self._no_backend_base[name] = service.no_backend

    def since_warmup(self, instance) -> Counters:
        """An instance's counters over the measured window."""
        return instance.counters(self.env.now) - self._instance_base.get(instance, NO_COUNTERS)

    def _service_levels(self, service) -> tuple[float, float, float, int, float]:
        """Cumulative integrals of a service: busy core-s, queue, in service, completions, up core-s."""
        busy = queue = system = up = 0.0
        done = 0
        now = self.env.now
        for instance in service.all_instances():
            instance.settle(now)
            busy += instance.busy_area
            queue += instance.queue_area
            system += instance.system_area
            done += instance.completed
            up += instance.up_area
        return busy, queue, system, done, up

    def tick(self, offered_total: int) -> None:
        """Close the current time-series interval and write its row."""
        now = self.env.now
        dt = now - self._tick_t
        if dt <= 0:
            return
        self.flight_area += self.in_flight * (now - self.flight_t)
        self.flight_t = now
        # A tick costs in proportion to the requests of its interval: a pass over the buckets only
        # when the interval had enough requests to be flushed into them (then amortised over them).
        if self._tick_flushed:
            if self._tick_latencies:
                add_to_hdr(self._hdr_template, self._tick_counts, np.asarray(self._tick_latencies))
            p50, p95, p99 = percentiles_from_counts(self._hdr_template, self._tick_counts, TICK_PERCENTILES)
            self._tick_counts[:] = 0
            self._tick_flushed = False
        else:
            p50, p95, p99 = percentiles_of_values(self._hdr_template, self._tick_latencies, TICK_PERCENTILES)
        self._tick_latencies.clear()
        # in-flight time average over the interval (the area counter restarts at warm-up)
        area_now = self.flight_area
        in_flight_avg = (area_now - self._tick_area) / dt
        self._tick_area = area_now
        row: dict[str, Any] = {
            "time_s": round(now, 9),
            "offered_per_s": self._tick_started / dt,
            "throughput_per_s": self._tick_ok / dt,
            "errors_per_s": self._tick_failed / dt,
            "latency_p50_s": p50,
            "latency_p95_s": p95,
            "latency_p99_s": p99,
            "in_flight": in_flight_avg,
        }
        for name, service in self.services.items():
            levels = self._service_levels(service)
            busy, queue, system, done, up = levels
            last = self._svc_marks.get(name, NO_LEVELS)
            available = up - last[4]  # core-seconds the service actually had this interval
            row[f"utilisation.{name}"] = (busy - last[0]) / available if available > 0 else 0.0
            row[f"queue.{name}"] = (queue - last[1]) / dt
            row[f"instances.{name}"] = len(service.ready)
            self._svc_marks[name] = levels
        for extension in self.extensions:
            extension.tick(row, dt)
        self.rows.append(row)
        self._tick_t = now
        self._tick_started = self._tick_ok = self._tick_failed = 0

    # --- the result --------------------------------------------------------------------------

    def result(self, replication: int, duration_s: float) -> ReplicationResult:
        now = self.env.now
        measured = duration_s - self.warmup_s
        self.flight_area += self.in_flight * (now - self.flight_t)
        self.flight_t = now
        classes: dict[str, dict[str, Any]] = {}
        overall = LatencyHistogram()
        totals = {"arrived": 0, "ok": 0, "errors": 0, "timeouts": 0, "finished": 0, "sojourn": 0.0}
        histograms: dict[str, str] = {}
        async_histograms: dict[str, str] = {}
        for stats in self.classes:
            classes[stats.name] = _class_summary(stats.arrived, stats.ok, stats.errors, stats.timeouts, stats.latency, measured)
            histograms[stats.name] = stats.latency.encode()
            if stats.async_latency.count:
                classes[stats.name]["async_latency_mean_s"] = stats.async_latency.mean_s
                classes[stats.name]["async_latency_p95_s"] = stats.async_latency.percentile_s(95)
                async_histograms[stats.name] = stats.async_latency.encode()
            overall.merge(stats.latency)
            totals["arrived"] += stats.arrived
            totals["ok"] += stats.ok
            totals["errors"] += stats.errors
            totals["timeouts"] += stats.timeouts
            totals["finished"] += stats.finished
            totals["sojourn"] += stats.sojourn_sum_s
        histograms["*"] = overall.encode()
        overall_summary = _class_summary(totals["arrived"], totals["ok"], totals["errors"], totals["timeouts"], overall, measured)
        services: dict[str, dict[str, Any]] = {}
        for name, service in self.services.items():
            window = [self.since_warmup(instance) for instance in service.all_instances()]
            core_seconds = sum(c.up_s for c in window)  # only while up: not starting, crashed or removed
            busy = sum(c.busy_s for c in window)
            services[name] = {
                "instances": len(service.ready),
                "utilisation": busy / core_seconds if core_seconds > 0 else 0.0,
                "mean_queue_length": sum(c.queue_s for c in window) / measured,
                "mean_in_system": sum(c.system_s for c in window) / measured,
                "throughput_per_s": sum(c.completed for c in window) / measured,
                "rejections": sum(c.rejected for c in window) + service.no_backend - self._no_backend_base.get(name, 0),
            }
        finished = totals["finished"]
        system = {
            "mean_in_flight": (self.flight_area - self._flight_base) / measured,
            "finished_rate_per_s": finished / measured,
            "mean_sojourn_s": totals["sojourn"] / finished if finished else math.nan,
        }
        system["littles_law_l"] = system["finished_rate_per_s"] * system["mean_sojourn_s"] if finished else math.nan
        result = ReplicationResult(
            replication=replication,
            measured_s=measured,
            classes=classes,
            overall=overall_summary,
            services=services,
            system=system,
            timeseries=self.rows,
            histograms=histograms,
            async_histograms=async_histograms,
            events=self.events,
        )
        for extension in self.extensions:
            extension.result(result)
        return result


def _class_summary(arrived: int, ok: int, errors: int, timeouts: int, latency: LatencyHistogram, measured_s: float) -> dict[str, Any]:
    """Counts, rates and latency of requests that arrived in the measured window.

    ``offered_rate_per_s`` counts every arrival, finished or not; ``throughput_per_s`` counts the
    successes; ``unfinished_requests`` arrived but had no answer when the run ended (overload
    shows here first). Latency figures are over successful requests only, so they exclude the
    unfinished ones (which would all be slower than anything measured).
    """
    count = ok + errors + timeouts
    unfinished = arrived - count
    out: dict[str, Any] = {
        "arrived_requests": arrived,
        "requests": count,
        "successes": ok,
        "errors": errors,
        "timeouts": timeouts,
        "unfinished_requests": unfinished,
        "unfinished_fraction": unfinished / arrived if arrived else 0.0,
        "error_rate": (errors + timeouts) / count if count else 0.0,
        "offered_rate_per_s": arrived / measured_s,
        "throughput_per_s": ok / measured_s,
        "latency_mean_s": latency.mean_s,
        "latency_min_s": latency.hdr.get_min_value() / 1e6 if latency.count else math.nan,
        "latency_max_s": latency.hdr.get_max_value() / 1e6 if latency.count else math.nan,
    }
    for key, p in SUMMARY_PERCENTILES.items():
        out[f"latency_{key}_s"] = latency.percentile_s(p)
    return out
