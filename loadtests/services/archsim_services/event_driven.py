"""Event-driven: order placement is an event on a broker; workers fulfil it asynchronously.

Two roles share one PostgreSQL database:

- ``api`` serves the public API. ``place_order`` records the order as ``pending``, publishes an
  ``order placed`` event to the Redis stream ``orders.placed`` and answers 202 at once;
  ``order_status`` reports how far fulfilment got.
- ``worker`` (any number of replicas, one consumer group) reserves inventory, takes payment,
  confirms the order and notifies the customer, then acknowledges the event.

Delivery is at least once: a worker that dies after reading an event but before ``XACK`` leaves it
pending, and every worker regularly claims events idle for ``ARCHSIM_REDELIVER_AFTER_MS`` in any
consumer (``XAUTOCLAIM``) and fulfils them again. A fulfilment that fails is not acknowledged,
so it is retried the same way; after ``MAX_DELIVERIES`` the event moves to ``orders.dead``.
Fulfilment is idempotent per order (see :meth:`~.domain.OrderPlacement.fulfil`), and a redelivered
order that is no longer ``pending`` is only acknowledged. The worker's ``/metrics`` count
``redelivered``, ``duplicate`` and ``dead_lettered`` events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket

from aiohttp import web

from . import broker, routes, settings
from .cpu import Metered
from .database import PostgresDatabase
from .domain import CAPABILITIES, Carts, Catalog, Inventory, Notifications, Order, OrderPlacement, Orders, Payments
from .startup import open_with_schema, retrying
from .web import create_app

STREAM = "orders.placed"  #: Redis stream of order-placed events.
GROUP = "fulfilment"  #: Consumer group shared by the workers.
DEAD_LETTERS = "orders.dead"  #: Where an event goes after MAX_DELIVERIES failed fulfilments.
MAX_DELIVERIES = 10  #: Deliveries of one event before it is dead-lettered (a poison event must not loop).
SCHEMA_LOCK = 7303

log = logging.getLogger("archsim.event_driven")


def _placement(db: PostgresDatabase) -> OrderPlacement:
    return OrderPlacement(Catalog(db), Carts(db), Orders(db), Inventory(db), Payments(db), Notifications(db))


def _lifecycle(db: PostgresDatabase, state: dict):
    async def lifecycle(app: web.Application):
        await open_with_schema(db, list(CAPABILITIES), SCHEMA_LOCK)
        state["broker"] = await broker.connect(settings.broker_url())
        await retrying(lambda: broker.ensure_group(state["broker"], STREAM, GROUP), "creating the consumer group")
        yield
        await state["broker"].aclose()
        await db.close()

    return lifecycle


def _checks(app: web.Application, db: PostgresDatabase, state: dict) -> None:
    async def database_answers() -> None:
        await db.fetch("SELECT 1")

    async def broker_answers() -> None:
        await state["broker"].ping()

    app["checks"] += [database_answers, broker_answers]


def build_api() -> web.Application:
    app = create_app("api")
    db = PostgresDatabase(settings.database_url())
    placement = _placement(db)
    state: dict = {}

    async def place(cart_id: str) -> Order:
        order = await placement.accept(cart_id)
        await state["broker"].xadd(STREAM, {"order": json.dumps(order.as_json())})
        return order

    app.cleanup_ctx.append(_lifecycle(db, state))
    _checks(app, db, state)
    routes.add_catalog(app, placement.catalog)
    routes.add_carts(app, placement.carts)
    routes.add_orders(app, placement.orders, place)
    return app


def build_worker() -> web.Application:
    app = create_app("worker")
    db = PostgresDatabase(settings.database_url())
    placement = _placement(db)
    state: dict = {}
    consumer = os.environ.get("HOSTNAME") or socket.gethostname()
    redeliver_after_ms = settings.redeliver_after_ms()
    reclaim_every_s = min(max(redeliver_after_ms / 2000.0, 0.05), 1.0)  #: Also the longest XREADGROUP block.

    async def handle(entry_id: str, fields: dict, redelivered: bool) -> None:
        """Fulfil one event, then acknowledge it. One that fails stays pending and is re-claimed
        (after ``redeliver_after_ms``), up to ``MAX_DELIVERIES`` times, then dead-lettered."""
        metrics, client = app["metrics"], state["broker"]
        if redelivered:
            metrics.count("redelivered")
            if await broker.deliveries(client, STREAM, GROUP, entry_id) > MAX_DELIVERIES:
                log.error("event %s failed %d deliveries: moved to %s", entry_id, MAX_DELIVERIES, DEAD_LETTERS)
                metrics.count("dead_lettered")
                await client.xadd(DEAD_LETTERS, {**fields, "entry_id": entry_id})
                await client.xack(STREAM, GROUP, entry_id)
                return
        meter = None
        try:
            order = Order.from_json(json.loads(fields["order"]))
            if redelivered and await placement.orders.state(order.order_id) != "pending":
                metrics.count("duplicate")  # fulfilled before its worker could acknowledge it
                await client.xack(STREAM, GROUP, entry_id)
                return
            meter = Metered(placement.fulfil(order))
            await meter
        except Exception:
            log.exception("fulfilling %s failed: left pending for redelivery", entry_id)
            metrics.record("fulfil", meter.cpu_s if meter else 0.0, True)
            return
        metrics.record("fulfil", meter.cpu_s, False)
        await client.xack(STREAM, GROUP, entry_id)

    async def work() -> None:
        """Read new events; every ``reclaim_every_s`` first take over those idle for
        ``redeliver_after_ms`` in any consumer (a worker that died before acknowledging)."""
        loop = asyncio.get_running_loop()
        next_reclaim_s = loop.time() + reclaim_every_s
        while True:
            try:
                entries, redelivered = [], False
                if loop.time() >= next_reclaim_s:
                    next_reclaim_s = loop.time() + reclaim_every_s
                    entries = await broker.reclaim(state["broker"], STREAM, GROUP, consumer, redeliver_after_ms)
                    redelivered = bool(entries)
                if not entries:
                    entries = await broker.consume(state["broker"], STREAM, GROUP, consumer,
                                                   block_ms=int(reclaim_every_s * 1000))
                for entry_id, fields in entries:
                    await handle(entry_id, fields, redelivered)
            except asyncio.CancelledError:
                raise
            except Exception:  # broker or database restarting: retry, do not die (unacknowledged events are re-claimed)
                log.exception("working on %s failed", STREAM)
                await asyncio.sleep(1)

    async def run_worker(app: web.Application):
        task = asyncio.create_task(work())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(_lifecycle(db, state))
    app.cleanup_ctx.append(run_worker)
    _checks(app, db, state)
    return app
