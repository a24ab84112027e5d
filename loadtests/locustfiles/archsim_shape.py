"""Locust side of ``archsim loadtest``: the scenario's load shape, arrivals, request mix and recorder.

Loaded as an extra ``-f`` file next to a locustfile, only by ``archsim loadtest``, which writes
the plan (:class:`simulator.loadtest.plan.LoadPlan`) to a JSON file named by ``ARCHSIM_PLAN``
and names a folder for the records in ``ARCHSIM_RECORD``. Without those variables this file
defines nothing and changes nothing. In every Locust process that runs users (the only one, or
each worker of ``--workers N``):

- open model: every user class gets one task that takes the process's next arrival from its
  :class:`~simulator.loadtest.pacing.ArrivalSchedule`, sleeps until it is due and runs the
  locustfile's task named after the arrival's request class; ``wait_time`` is zero. The schedule
  starts when the process's users are all spawned;
- closed model: the scenario's mix as task weights, and ``wait_time`` draws the scenario's
  ``think_time`` distribution;
- a :class:`~simulator.loadtest.recording.Recorder` listens to Locust's ``request`` event and
  writes ``record-<pid>.json`` into the record folder when the test stops and again when Locust
  quits, so an interrupted test still leaves what it measured.

``ArchsimShape`` (a ``LoadTestShape``, run by the master or the only process) holds
``plan.users`` users until ``plan.duration_s`` (open: plus ``plan.drain_s``, counted from the
moment spawning completed) and resets Locust's own statistics when the warm-up ends, so Locust's
``_stats.csv`` covers about the measurement window too.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import time
from pathlib import Path

import gevent
import gevent.event
import gevent.local
import locust
from locust import LoadTestShape, events
from locust.runners import MasterRunner, WorkerRunner

from simulator.loadtest.pacing import PacingStats, schedule_for, think_sampler
from simulator.loadtest.plan import RECORD_ENV, task_weights
from simulator.loadtest.recording import Recorder
from simulator.loadtest.remote import current_plan, send_record, serve_workers
from simulator.results.rundir import write_json

PLAN = current_plan()  #: None: not run by archsim. A remote worker fetches it from the master.
IDLE_S = 3600.0  #: A user with no arrival left sleeps until the test stops it.

_arrival = gevent.local.local()  #: The open-model arrival the current greenlet is serving.


def connection_failure(exception: BaseException | None) -> bool:
    """Whether a failure means the target did not answer at all (refused, reset, timed out),
    rather than answering with an error status or a body the locustfile rejected."""
    if exception is None:
        return False
    if isinstance(exception, OSError):
        return getattr(exception, "response", None) is None  # requests' HTTPError carries a response
    return type(exception).__name__ == "ConnectionError" and not hasattr(exception, "code")  # geventhttpclient


def _zero_wait(user) -> float:
    return 0.0


def _think(user) -> float:
    sampler = user.__dict__.get("_archsim_think")
    if sampler is None:
        sampler = user._archsim_think = think_sampler(PLAN, next(user.environment.archsim_user_ids))
    return float(sampler())


def _serve_arrivals(user) -> None:
    """Open model: the one task of every user. Takes the next arrival, waits for it, sends it."""
    environment = user.environment
    environment.archsim_ready.wait()
    due, name = environment.archsim_schedule.take()
    if due == math.inf:
        gevent.sleep(IDLE_S)  # no arrival left before the end: wait to be stopped
        return
    origin = environment.archsim_origin_mono
    wait = due - (time.monotonic() - origin)
    if wait > 0:
        gevent.sleep(wait)
    lag = max(0.0, time.monotonic() - origin - due)
    environment.archsim_pacing.sent(due, due + lag)
    _arrival.current = [name, due, lag]
    try:
        user._archsim_tasks[name](user)
    finally:
        _arrival.current = None


def _apply_plan(environment) -> None:
    weights = task_weights(PLAN.mix)
    for user_class in environment.user_classes:
        by_name = {getattr(t, "__name__", str(t)): t for t in user_class.tasks}
        missing = [name for name in weights if name not in by_name]
        if missing:  # archsim checks this before starting Locust; this guards direct use
            raise RuntimeError(f"{user_class.__name__} has no task named {missing[0]!r} (tasks: {', '.join(by_name)})")
        if PLAN.model == "open":
            user_class._archsim_tasks = {name: by_name[name] for name in weights}
            user_class.tasks = [_serve_arrivals]
            user_class.wait_time = _zero_wait
        else:
            user_class.tasks = [by_name[name] for name, weight in weights.items() for _ in range(weight)]
            user_class.wait_time = _think


CPU_INTERVAL_S = 0.5  #: As the local generator's watch (simulator/loadtest/generator.py).


def _watch_own_cpu(environment) -> None:
    """A worker on another machine: this process's share of one core in every interval, so that its
    record carries the 90th percentile (a single-threaded Locust process near 100% sends late), as
    the local watch gives for the processes it can see."""
    shares = environment.archsim_cpu_shares = []
    last = (time.monotonic(), time.process_time())
    while True:
        gevent.sleep(CPU_INTERVAL_S)
        now = (time.monotonic(), time.process_time())
        if now[0] > last[0]:
            shares.append((now[1] - last[1]) / (now[0] - last[0]))
        last = now


def _install_recorder(environment, record_dir: Path | None) -> None:
    recorder = Recorder(PLAN.interval_s, PLAN.warmup_s, PLAN.duration_s, list(PLAN.mix))
    state = {"dropped_counted": False}

    def on_request(request_type, name, response_time, response_length=0, exception=None, start_time=None, **_kwargs) -> None:
        latency_s = (response_time or 0.0) / 1000.0
        current = getattr(_arrival, "current", None)
        setup = False
        if PLAN.model == "open":
            if current is not None and current[0] == name:
                start_s, latency_s = current[1], latency_s + current[2]  # from the due time
                current[0] = None  # the arrival's own request; any further one is set-up
            else:
                setup = True
                start_s = (start_time if start_time is not None else time.time() - latency_s) - environment.archsim_origin_wall
        else:
            start_s = (start_time if start_time is not None else time.time() - latency_s) - environment.archsim_origin_wall
        failure = None if exception is None else f"{type(exception).__name__}: {exception}"
        recorder.record(f"setup: {name}" if setup and name in recorder.class_names else name, start_s, latency_s,
                        exception is None, failure, connection_failure=connection_failure(exception))

    def write(**_kwargs) -> None:
        pacing = environment.archsim_pacing
        schedule = getattr(environment, "archsim_schedule", None)
        if schedule is not None and not state["dropped_counted"]:  # only the time that ran (Ctrl-C)
            ran_s = min(PLAN.duration_s, time.monotonic() - environment.archsim_origin_mono)
            pacing.dropped += schedule.untaken_before(ran_s, PLAN.warmup_s)
            state["dropped_counted"] = True
        elapsed = time.time() - environment.archsim_origin_wall
        cpu_from = getattr(environment, "archsim_cpu_from", None)  # (monotonic, process CPU) when the test began
        wall = time.monotonic() - cpu_from[0] if cpu_from else 0.0
        share = (time.process_time() - cpu_from[1]) / wall if wall > 0 else 0.0
        intervals = sorted(getattr(environment, "archsim_cpu_shares", []))
        busiest = intervals[int(0.9 * (len(intervals) - 1))] if intervals else share  # as the local CpuWatch: the 90th percentile
        data = recorder.result(elapsed, {
            "locust_version": locust.__version__, "pid": os.getpid(),
            "cpu": {"mean_cores": share, "busiest_share": busiest, "wall_s": wall, "intervals": len(intervals)},
            "pacing": pacing.as_dict() if PLAN.model == "open" else None,
        })
        if record_dir is not None:
            write_json(record_dir / f"record-{os.getpid()}.json", data)
        if PLAN.remote:
            send_record(environment, PLAN, data)

    environment.events.request.add_listener(on_request)
    environment.events.test_stop.add_listener(write)
    environment.events.quitting.add_listener(write)


if PLAN is not None:

    class ArchsimShape(LoadTestShape):
        """The scenario's users for its duration; statistics reset when the warm-up ends."""

        warmup_reset = False

        def tick(self):
            environment = self.runner.environment
            ready = getattr(environment, "archsim_ready_mono", None)
            if PLAN.model == "open":
                if ready is None:  # still spawning: the schedule has not started
                    return PLAN.users, PLAN.spawn_rate_per_s
                test_s, end_s = time.monotonic() - ready, PLAN.duration_s + PLAN.drain_s
            else:
                test_s, end_s = self.get_run_time(), PLAN.duration_s
            if test_s >= end_s:
                return None
            if PLAN.warmup_s and not self.warmup_reset and test_s >= PLAN.warmup_s:
                self.runner.stats.reset_all()
                self.warmup_reset = True
            return PLAN.users, PLAN.spawn_rate_per_s

    @events.init.add_listener
    def _on_init(environment, **_kwargs) -> None:
        random.seed(PLAN.seed)  # closed-model task choice and the locustfile's own draws
        environment.archsim_user_ids = itertools.count()
        environment.archsim_origin_wall = time.time()
        environment.archsim_origin_mono = time.monotonic()
        environment.archsim_ready = gevent.event.Event()
        environment.archsim_pacing = PacingStats(PLAN.warmup_s, PLAN.duration_s)
        _apply_plan(environment)
        record_dir = os.environ.get(RECORD_ENV)
        if isinstance(environment.runner, MasterRunner):
            if PLAN.remote and record_dir:  # workers on other machines send their records here
                serve_workers(environment, PLAN, Path(record_dir))
        elif record_dir or PLAN.remote:
            _install_recorder(environment, Path(record_dir) if record_dir else None)

    @events.test_start.add_listener
    def _on_test_start(environment, **_kwargs) -> None:
        environment.archsim_origin_wall = time.time()
        environment.archsim_origin_mono = time.monotonic()

    @events.spawning_complete.add_listener
    def _on_spawning_complete(user_count, **_kwargs) -> None:
        # Fired in each process (workers hear it from the master): the schedule starts now.
        for environment in _ENVIRONMENTS:
            if getattr(environment, "archsim_ready_mono", None) is not None:
                continue
            environment.archsim_ready_mono = time.monotonic()
            environment.archsim_cpu_from = (environment.archsim_ready_mono, time.process_time())
            if PLAN.remote and not isinstance(environment.runner, MasterRunner):
                gevent.spawn(_watch_own_cpu, environment)
            if PLAN.model == "open":  # closed users start as they spawn: their clock runs from test_start
                environment.archsim_origin_mono = environment.archsim_ready_mono
                environment.archsim_origin_wall = time.time()
                if not isinstance(environment.runner, MasterRunner):
                    index = environment.runner.worker_index if isinstance(environment.runner, WorkerRunner) else 0
                    if PLAN.worker_index is not None:  # a remote worker: the index the master gave with the plan
                        index = PLAN.worker_index
                    environment.archsim_schedule = schedule_for(PLAN, index)
            environment.archsim_ready.set()

    _ENVIRONMENTS: list = []

    @events.init.add_listener
    def _remember(environment, **_kwargs) -> None:
        _ENVIRONMENTS.append(environment)
