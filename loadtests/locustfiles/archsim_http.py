"""The generic locustfile: one task per request class, sending the class's ``http:`` request.

``archsim loadtest`` uses this file when every request class of the scenario has an ``http:``
block (:class:`simulator.scenario.http.HttpRequest`) and no ``--locustfile`` is given, so a user
needs no Python. It reads the classes from the plan named by ``ARCHSIM_PLAN`` (without it, it
defines nothing); ``archsim_shape.py`` then applies the scenario's mix and arrivals to the tasks as
to any locustfile's. Each request is named after its class and succeeds when its status is one
the class expects (any 2xx or 3xx by default). Parameters are drawn with one random stream per
user, seeded from the scenario's seed.
"""

from __future__ import annotations

import itertools
import os
import random

from locust import FastHttpUser

from simulator.loadtest.remote import current_plan
from simulator.scenario.http import HttpRequest

PLAN = current_plan()  #: From ARCHSIM_PLAN, or from the master on a remote worker (archsim loadtest-worker).
_user_ids = itertools.count()


def _task(name: str, request: HttpRequest):
    def send(user) -> None:
        render = user._archsim_render.get(name)
        if render is None:
            render = user._archsim_render[name] = request.renderer(user._archsim_rng)
        method, path, headers, body = render()
        with user.client.request(method, path, name=name, headers=headers, data=body, catch_response=True) as response:
            error = getattr(response, "error", None)
            if error is not None and not response.status_code:  # no answer at all: keep the connection error
                response.failure(error)
            elif request.accepts(response.status_code):
                response.success()
            else:
                response.failure(f"status {response.status_code} (expected {request.expect or '2xx/3xx'})")

    send.__name__ = name
    return send


if PLAN is not None and PLAN.http:

    class ArchsimHttpUser(FastHttpUser):
        """Sends the scenario's classes as their ``http:`` blocks describe."""

        tasks = [_task(name, HttpRequest.model_validate(block)) for name, block in PLAN.http.items()]

        def on_start(self) -> None:
            self._archsim_rng = random.Random(f"{PLAN.seed}:http:{os.getpid()}:{next(_user_ids)}")
            self._archsim_render = {}
