"""Locust side of ``archsim loadtest``: record every response in constant memory.

Loaded as an extra ``-f`` file by ``archsim loadtest``; active only when ``ARCHSIM_RECORD`` (the
output file) and ``ARCHSIM_PLAN`` (durations) are set. Feeds Locust's ``request`` event into a
:class:`simulator.loadtest.recording.Recorder` and writes its JSON (atomically) when the test
stops and again when Locust quits, so an interrupted test still leaves what it measured.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import locust
from locust import events

from simulator.loadtest.plan import PLAN_ENV, RECORD_ENV, LoadPlan
from simulator.loadtest.recording import Recorder
from simulator.results.rundir import write_json


def _install(environment, plan: LoadPlan, out_path: str) -> None:
    recorder = Recorder(plan.interval_s, plan.warmup_s, plan.duration_s)
    clock = {"origin": time.time(), "max_users": 0}

    def on_test_start(**_kwargs) -> None:
        clock["origin"] = time.time()

    def on_request(name, response_time, exception=None, start_time=None, **_kwargs) -> None:
        latency_s = (response_time or 0.0) / 1000.0
        start = start_time if start_time is not None else time.time() - latency_s
        recorder.record(name, start - clock["origin"], latency_s, exception is None,
                        None if exception is None else f"{type(exception).__name__}: {exception}")

    def write(**_kwargs) -> None:
        pacing = getattr(environment, "archsim_pacing", None)
        data = recorder.result(
            time.time() - clock["origin"],
            {
                "locust_version": locust.__version__,
                "pacing": pacing.as_dict() if pacing is not None else None,
            },
        )
        write_json(Path(out_path), data)

    environment.events.test_start.add_listener(on_test_start)
    environment.events.request.add_listener(on_request)
    environment.events.test_stop.add_listener(write)
    environment.events.quitting.add_listener(write)


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    if os.environ.get(RECORD_ENV) and os.environ.get(PLAN_ENV):
        _install(environment, LoadPlan.read(os.environ[PLAN_ENV]), os.environ[RECORD_ENV])
