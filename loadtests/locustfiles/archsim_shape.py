"""Locust side of ``archsim loadtest``: the scenario's load shape, pacing and request mix.

Loaded as an extra ``-f`` file next to a style's locustfile, only by ``archsim loadtest``, which
writes the plan (:class:`simulator.loadtest.plan.LoadPlan`) to a JSON file named by
``ARCHSIM_PLAN``. Without that variable this file defines nothing and changes nothing.

- ``ArchsimShape`` (a ``LoadTestShape``) holds ``plan.users`` users, spawned at
  ``plan.spawn_rate_per_s``, until ``plan.duration_s``; at the end of the warm-up it resets
  Locust's statistics, so Locust's own ``_stats.csv`` covers the measurement window as
  ``summary.json`` does.
- On ``init`` every user class gets the scenario's mix as task weights, and:
  open model: each task waits for the user's next arrival time first (a
  :class:`~simulator.loadtest.pacing.Pacer`) and ``wait_time`` is zero;
  closed model: ``wait_time`` draws the scenario's ``think_time`` distribution.
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import time

import gevent
from locust import LoadTestShape, events

from simulator.loadtest.pacing import PacingStats, pacer_for, think_sampler
from simulator.loadtest.plan import PLAN_ENV, LoadPlan, task_weights

PLAN = LoadPlan.read(os.environ[PLAN_ENV]) if os.environ.get(PLAN_ENV) else None  #: None: not run by archsim.


def _zero_wait(user) -> float:
    return 0.0


def _think(user) -> float:
    sampler = user.__dict__.get("_archsim_think")
    if sampler is None:
        sampler = user._archsim_think = think_sampler(PLAN, next(user.environment.archsim_user_ids))
    return float(sampler())


def _paced(task):
    """``task`` preceded by a sleep until the user's next arrival time (open model)."""

    @functools.wraps(task)
    def run(user, *args, **kwargs):
        environment = user.environment
        origin = environment.archsim_origin
        pacer = user.__dict__.get("_archsim_pacer")
        if pacer is None:
            pacer = user._archsim_pacer = pacer_for(PLAN, next(environment.archsim_user_ids), time.monotonic() - origin)
        due = pacer.next_s
        wait = due - (time.monotonic() - origin)
        if wait > 0:
            gevent.sleep(wait)
        environment.archsim_pacing.sent(due, time.monotonic() - origin)
        pacer.advance()
        return task(user, *args, **kwargs)

    return run


def _apply_plan(environment) -> None:
    weights = task_weights(PLAN.mix)
    for user_class in environment.user_classes:
        by_name = {getattr(t, "__name__", str(t)): t for t in user_class.tasks}
        missing = [name for name in weights if name not in by_name]
        if missing:  # archsim checks this before starting Locust; this guards direct use
            raise RuntimeError(f"{user_class.__name__} has no task named {missing[0]!r} (tasks: {', '.join(by_name)})")
        wrap = _paced if PLAN.model == "open" else (lambda t: t)
        user_class.tasks = [wrap(by_name[name]) for name, weight in weights.items() for _ in range(weight)]
        user_class.wait_time = _zero_wait if PLAN.model == "open" else _think


if PLAN is not None:

    class ArchsimShape(LoadTestShape):
        """The scenario's users for its duration; statistics reset when the warm-up ends."""

        warmup_reset = False

        def tick(self):
            run_time = self.get_run_time()
            if run_time >= PLAN.duration_s:
                return None
            if PLAN.warmup_s and not self.warmup_reset and run_time >= PLAN.warmup_s:
                self.runner.stats.reset_all()
                self.warmup_reset = True
            return PLAN.users, PLAN.spawn_rate_per_s

    @events.init.add_listener
    def _on_init(environment, **_kwargs) -> None:
        random.seed(PLAN.seed)  # task choice and the locustfile's own draws
        environment.archsim_user_ids = itertools.count()
        environment.archsim_origin = time.monotonic()
        environment.archsim_pacing = PacingStats()
        _apply_plan(environment)

    @events.test_start.add_listener
    def _on_test_start(environment, **_kwargs) -> None:
        environment.archsim_origin = time.monotonic()
