"""Event-driven: order placement is an event on a broker; workers fulfil it asynchronously.

Two roles share one PostgreSQL database:

- ``api`` serves the public API. ``place_order`` records the order as ``pending``, publishes an
  ``order placed`` event to the Redis stream ``orders.placed`` and answers 202 at once;
  ``order_status`` reports how far fulfilment got.
- ``worker`` (any number of replicas, one consumer group) reserves inventory, takes payment,
  confirms the order and notifies the customer, then acknowledges the event.
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
from .domain import CAPABILITIES, Carts, Catalog, Inventory, Notifications, Order, OrderPlacement, Orders, Payments, install
from .web import create_app

STREAM = "orders.placed"  #: Redis stream of order-placed events.
GROUP = "fulfilment"  #: Consumer group shared by the workers.
SCHEMA_LOCK = 7303

log = logging.getLogger("archsim.event_driven")


def _placement(db: PostgresDatabase) -> OrderPlacement:
    return OrderPlacement(Catalog(db), Carts(db), Orders(db), Inventory(db), Payments(db), Notifications(db))


def _lifecycle(db: PostgresDatabase, state: dict):
    async def lifecycle(app: web.Application):
        await db.open()
        async with db.advisory_lock(SCHEMA_LOCK):
            await install(db, list(CAPABILITIES))
        state["broker"] = await broker.connect(settings.broker_url())
        await broker.ensure_group(state["broker"], STREAM, GROUP)
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

    async def work() -> None:
        metrics = app["metrics"]
        while True:
            try:
                entries = await broker.consume(state["broker"], STREAM, GROUP, consumer)
            except asyncio.CancelledError:
                raise
            except Exception:  # broker restarting: retry, do not die
                log.exception("reading %s failed", STREAM)
                await asyncio.sleep(1)
                continue
            for entry_id, fields in entries:
                meter = Metered(placement.fulfil(Order.from_json(json.loads(fields["order"]))))
                failed = False
                try:
                    await meter
                except Exception:
                    failed = True
                    log.exception("fulfilling %s failed", entry_id)
                metrics.record("fulfil", meter.cpu_s, failed)
                await state["broker"].xack(STREAM, GROUP, entry_id)

    async def run_worker(app: web.Application):
        task = asyncio.create_task(work())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(_lifecycle(db, state))
    app.cleanup_ctx.append(run_worker)
    _checks(app, db, state)
    return app
