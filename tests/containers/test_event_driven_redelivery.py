"""Event-driven delivery is at least once, and fulfilment exactly once, when a worker dies.

Deploy event-driven with two workers, place a burst of orders, ``kill`` the worker holding the
most unacknowledged events while it works, then wait until every order is ``confirmed``: the
survivor must re-claim the dead worker's events (``XAUTOCLAIM``) and fulfil them without taking
stock twice for an order the dead worker had already reserved.

The deployment is made slow and quick to redeliver on purpose: payment costs 100 ms of CPU (after
the reservation commits, so a kill is likely to land between reservation and acknowledgement) and
events are re-claimed after 2 s idle. ``lifecycle.up`` takes no per-deployment environment, so the
test wraps ``topology.build`` to add these two variables to the workers.
"""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest

from simulator.deploy import lifecycle, topology
from simulator.deploy.engine import Engine

pytestmark = pytest.mark.containers

ORDERS = 40
FIRST_PRODUCT = 901  #: Order i buys one unit of product FIRST_PRODUCT + i: stock shows each reservation.
INITIAL_STOCK = 1_000_000_000  #: As seeded by the services (``domain.INITIAL_STOCK``).
WORKER_ENV = {"ARCHSIM_CPU_MS_PAYMENT": "100", "ARCHSIM_REDELIVER_AFTER_MS": "2000"}
CONFIRM_TIMEOUT_S = 60.0


def call(url: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def redis(engine: Engine, prefix: str, *args: str) -> list[str]:
    """A redis-cli command in the broker container; its raw output lines."""
    command = 'exec redis-cli --no-auth-warning -a "$ARCHSIM_BROKER_PASSWORD" "$@"'
    return engine.lines("exec", f"{prefix}-broker", "sh", "-c", command, "redis-cli", *args)


def pending_by_consumer(engine: Engine, prefix: str) -> dict[str, int]:
    """Unacknowledged events per consumer of the workers' group (``XINFO CONSUMERS``)."""
    lines = redis(engine, prefix, "XINFO", "CONSUMERS", "orders.placed", "fulfilment")
    pending, name = {}, None
    for key, value in pairwise(lines):
        if key == "name":
            name = value
        elif key == "pending" and name is not None:
            pending[name] = int(value)
    return pending


def sql(engine: Engine, prefix: str, query: str) -> list[str]:
    return engine.lines("exec", f"{prefix}-postgres", "psql", "-h", "/tmp", "-U", "archsim", "-d", "archsim", "-At", "-c", query)


def workers_ready(engine: Engine, workers: list[str], timeout_s: float = 60.0) -> None:
    """Wait until every worker answers its own deep ``/health`` (database and broker reachable,
    start-up done, so its consumer loop runs).

    ``lifecycle.up`` waits for the API's health only, which never asks the workers: a worker still
    starting (or one that failed to start) when the orders go out leaves every event to the other,
    which is then the one killed, and no one is left to redeliver. Fail here, naming the worker and
    how it is doing, rather than later on an exec into a stopped container. (The consumer group
    cannot tell: Redis lists a consumer only once it has been delivered an event.)
    """
    deadline = time.monotonic() + timeout_s
    waiting = list(workers)
    while waiting:
        waiting = [w for w in waiting if lifecycle.get_inside(engine, w, "/health", timeout_s=2).returncode != 0]
        if waiting and time.monotonic() > deadline:
            raise AssertionError("workers not ready: " + "; ".join(stopped(engine, name) for name in waiting))
        if waiting:
            time.sleep(0.5)


def deploy_with_ready_workers(engine: Engine, project: str, workers: list[str]) -> str:
    """Deploy event-driven with two workers and wait for both; redeploy once if a worker died
    while starting.

    Rarely (seen 1 run in 7 at load average 5-8, never when the machine is quiet) a worker exits
    during start-up with code 1 and no log line, before it has read any event. The cause is not
    known yet (not OOM, not SIGTERM, not a thread limit). That is a start-up failure, which this
    test is not about: it is reported on stdout and the deployment is made again once, so the test
    still judges redelivery after a kill; a second start-up failure fails the test.
    """
    for attempt in (1, 2):
        url = lifecycle.up(engine, "event-driven", replicas=2, project=project, timeout_s=120)
        try:
            workers_ready(engine, workers)
            return url
        except AssertionError as failed:
            lifecycle.down(engine, project)
            if attempt == 2:
                raise
            print(f"start-up failure, deploying again: {failed}")
    raise AssertionError("unreachable")


def stopped(engine: Engine, name: str) -> str:
    """How a container is doing: its state, exit code, OOM flag and last log line."""
    state = engine.call("inspect", "--format", "{{.State.Status}} exit {{.State.ExitCode}} oom {{.State.OOMKilled}}", name, check=False)
    tail = engine.call("logs", "--tail", "1", name, check=False)
    return f"{name}: {state.stdout.strip()} ({(tail.stdout + tail.stderr).strip()[-200:] or 'no log'})"


def worker_metrics(engine: Engine, name: str) -> dict:
    answer = lifecycle.get_inside(engine, name, "/metrics?format=json")
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def test_killed_worker_events_are_redelivered_and_fulfilled_once(engine, built, project, monkeypatch):
    original = topology.build

    def slow_workers(style, replicas, secrets, name):
        plan = original(style, replicas, secrets, name)
        changed = [topology.Container(**{**c.__dict__, "env": {**c.env, **WORKER_ENV}}) if c.role == "worker" else c
                   for c in plan.containers]
        return topology.Topology(plan.style, plan.replicas, tuple(changed), plan.project)

    monkeypatch.setattr(topology, "build", slow_workers)
    prefix = f"{project}-event-driven"
    workers = [f"{prefix}-worker-1", f"{prefix}-worker-2"]
    url = deploy_with_ready_workers(engine, project, workers)
    try:
        hostnames = {engine.call("inspect", "--format", "{{.Config.Hostname}}", w).stdout.strip(): w for w in workers}
        carts = [f"redelivery-{i}" for i in range(ORDERS)]
        for i, cart in enumerate(carts):
            call(f"{url}/carts/{cart}/items", "POST", {"product_id": FIRST_PRODUCT + i, "quantity": 1})

        with ThreadPoolExecutor(8) as pool:
            placed = [pool.submit(call, f"{url}/carts/{cart}/order", "POST") for cart in carts]
            deadline = time.monotonic() + 15
            while True:  # kill the worker holding the most unacknowledged events, once it holds some
                consumer, held = max(pending_by_consumer(engine, prefix).items(), key=lambda item: item[1], default=("", 0))
                if held >= 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert held >= 1 and consumer in hostnames, f"no worker held unacknowledged events: {pending_by_consumer(engine, prefix)}"
            victim = hostnames[consumer]
            engine.call("kill", victim)
            killed_s = time.monotonic()
            orders = [future.result() for future in placed]
        orphaned = pending_by_consumer(engine, prefix)[consumer]  # frozen: its worker is dead
        survivor = next(w for w in workers if w != victim)

        ids = [order["order_id"] for order in orders]
        statuses: dict[str, str] = {}
        while time.monotonic() - killed_s < CONFIRM_TIMEOUT_S:
            statuses = {order_id: call(f"{url}/orders/{order_id}")["status"] for order_id in ids}
            if all(status == "confirmed" for status in statuses.values()):
                break
            time.sleep(0.5)
        confirm_s = time.monotonic() - killed_s

        stock = sql(engine, prefix, f"SELECT available FROM stock WHERE product_id BETWEEN {FIRST_PRODUCT} AND {FIRST_PRODUCT + ORDERS - 1}")
        reservations = sql(engine, prefix, "SELECT count(*) FROM reservations WHERE order_id IN ({})".format(",".join(f"'{i}'" for i in ids)))
        payments = sql(engine, prefix, "SELECT count(*) FROM payments WHERE order_id IN ({})".format(",".join(f"'{i}'" for i in ids)))
        left_pending = sum(pending_by_consumer(engine, prefix).values())
        for _ in range(20):  # the last order may show confirmed a moment before its event is acknowledged
            if left_pending == 0:
                break
            time.sleep(0.25)
            left_pending = sum(pending_by_consumer(engine, prefix).values())
        state = {r.name: r.state for r in lifecycle.running(engine, project)}.get(survivor)
        assert state == "running", f"the surviving worker stopped: {stopped(engine, survivor)}"
        events = worker_metrics(engine, survivor)["events"]
    finally:
        lifecycle.down(engine, project)
    assert lifecycle.running(engine, project) == []

    print(f"placed {len(orders)}, killed {victim} holding {orphaned} unacknowledged, survivor redelivered "
          f"{events.get('redelivered', 0)} (duplicates {events.get('duplicate', 0)}), all confirmed {confirm_s:.1f} s after the kill")
    assert [order["status"] for order in orders] == ["pending"] * ORDERS
    not_confirmed = {i: s for i, s in statuses.items() if s != "confirmed"}
    assert not_confirmed == {}, f"{len(not_confirmed)} of {ORDERS} orders not confirmed within {CONFIRM_TIMEOUT_S:.0f} s"
    assert stock == [str(INITIAL_STOCK - 1)] * ORDERS, "an order took stock more than once (or never)"
    assert reservations == [str(ORDERS)] and payments == [str(ORDERS)]
    assert orphaned >= 1 and events.get("redelivered", 0) >= orphaned
    assert left_pending == 0
