"""Space-based: processing units with in-memory replicas, and a data pump to PostgreSQL.

- ``unit`` (any number of replicas) serves the whole public API from an in-memory SQLite replica
  of all the data. Every committed write is published, as the statements it ran, to the Redis
  stream ``space.changes``; every unit applies the other units' statements in stream order, so the
  replicas converge (eventually consistent, as in any space-based system). A new unit seeds the
  same deterministic data and replays the stream from its start.
- ``pump`` reads the same stream in a consumer group and writes the statements to PostgreSQL in
  batches, off the request path.

The gateway routes a user (``X-Client-Id``) to the same unit every time, so a user's cart and
orders are read where they were written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence

from aiohttp import web

from . import broker, routes, settings
from .database import PostgresDatabase, SqliteDatabase, Statement
from .domain import CAPABILITIES, OrderPlacement, install
from .startup import open_with_schema, retrying
from .web import create_app

STREAM = "space.changes"  #: Redis stream of replicated writes.
PUMP_GROUP = "data-pump"  #: Consumer group of the data pump.
SCHEMA_LOCK = 7304

log = logging.getLogger("archsim.space_based")


def build_unit() -> web.Application:
    app = create_app("unit")
    replica = SqliteDatabase(":memory:")
    origin = uuid.uuid4().hex  # this unit's writes, skipped when they come back from the stream
    outbox: asyncio.Queue[Sequence[Statement]] = asyncio.Queue()
    state: dict = {"applied": 0}
    capabilities = {name: cls(replica) for name, cls in CAPABILITIES.items()}
    placement = OrderPlacement(**{k: capabilities[k] for k in ("catalog", "carts", "orders", "inventory", "payments", "notifications")})

    async def publish() -> None:
        client = state["broker"]
        while True:
            statements = await outbox.get()
            payload = json.dumps([[sql, list(args)] for sql, args in statements])
            while True:
                try:
                    await client.xadd(STREAM, {"origin": origin, "statements": payload})
                    break
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("publishing to %s failed; retrying", STREAM)
                    await asyncio.sleep(0.5)

    async def replicate() -> None:
        client = state["broker"]
        last_id = "0"
        while True:
            try:
                answer = await client.xread({STREAM: last_id}, count=500, block=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading %s failed; retrying", STREAM)
                await asyncio.sleep(0.5)
                continue
            for _, entries in answer:
                for entry_id, fields in entries:
                    last_id = entry_id
                    if fields["origin"] != origin:
                        replica.apply([(sql, tuple(args)) for sql, args in json.loads(fields["statements"])])
                        state["applied"] += 1

    async def lifecycle(app: web.Application):
        await install(replica, list(CAPABILITIES))
        replica.on_commit = outbox.put_nowait
        state["broker"] = await broker.connect(settings.broker_url())
        tasks = [asyncio.create_task(publish()), asyncio.create_task(replicate())]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await state["broker"].aclose()
        await replica.close()

    async def broker_answers() -> None:
        await state["broker"].ping()

    app.cleanup_ctx.append(lifecycle)
    app["checks"].append(broker_answers)
    routes.add_catalog(app, capabilities["catalog"])
    routes.add_carts(app, capabilities["carts"])
    routes.add_orders(app, capabilities["orders"], placement.place)
    return app


def build_pump() -> web.Application:
    app = create_app("pump")
    db = PostgresDatabase(settings.database_url())
    state: dict = {}

    async def pump() -> None:
        client = state["broker"]
        while True:
            try:
                entries = await broker.consume(client, STREAM, PUMP_GROUP, "pump", count=500)
                if not entries:
                    continue
                async with db.transaction() as tx:
                    for _, fields in entries:
                        for sql, args in json.loads(fields["statements"]):
                            await tx.execute(sql, *args)
                await client.xack(STREAM, PUMP_GROUP, *[entry_id for entry_id, _ in entries])
                app["metrics"].record("pump_batch", 0.0, False)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pumping %s to the database failed; retrying", STREAM)
                await asyncio.sleep(1)

    async def lifecycle(app: web.Application):
        await open_with_schema(db, list(CAPABILITIES), SCHEMA_LOCK)
        state["broker"] = await broker.connect(settings.broker_url())
        await retrying(lambda: broker.ensure_group(state["broker"], STREAM, PUMP_GROUP), "creating the consumer group")
        task = asyncio.create_task(pump())
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await state["broker"].aclose()
        await db.close()

    async def database_answers() -> None:
        await db.fetch("SELECT 1")

    async def broker_answers() -> None:
        await state["broker"].ping()

    app.cleanup_ctx.append(lifecycle)
    app["checks"] += [database_answers, broker_answers]
    return app
