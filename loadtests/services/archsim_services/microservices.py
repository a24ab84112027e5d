"""Microservices: one HTTP service per capability, each owning its own database.

``ARCHSIM_CAPABILITY`` names the capability this process serves. Every service has its own
PostgreSQL database (``ARCHSIM_DATABASE_URL`` points at a database no other service uses); the
orders service runs the order placement by calling the others over HTTP. A gateway
(:mod:`.gateway`) routes the public API to the services.
"""

from __future__ import annotations

import os

from aiohttp import web

from . import clients, routes, settings
from .database import PostgresDatabase
from .domain import CAPABILITIES, OrderPlacement
from .startup import open_with_schema
from .web import create_app

SCHEMA_LOCK = 7302


def build_app() -> web.Application:
    capability = os.environ["ARCHSIM_CAPABILITY"]
    if capability not in CAPABILITIES:
        raise SystemExit(f"ARCHSIM_CAPABILITY must be one of {sorted(CAPABILITIES)}, not {capability!r}")
    app = create_app(capability)
    db = PostgresDatabase(settings.database_url())
    local = CAPABILITIES[capability](db)
    uses_http = capability == "orders"

    async def lifecycle(app: web.Application):
        await open_with_schema(db, [capability], SCHEMA_LOCK)
        if uses_http:
            await clients.open_session()
        yield
        if uses_http:
            await clients.close_session()
        await db.close()

    async def database_answers() -> None:
        await db.fetch("SELECT 1")

    app.cleanup_ctx.append(lifecycle)
    app["checks"].append(database_answers)
    if capability == "orders":
        placement = OrderPlacement(
            catalog=clients.CatalogClient(settings.service_urls("catalog")),
            carts=clients.CartsClient(settings.service_urls("carts")),
            orders=local,
            inventory=clients.InventoryClient(settings.service_urls("inventory")),
            payments=clients.PaymentsClient(settings.service_urls("payments")),
            notifications=clients.NotificationsClient(settings.service_urls("notifications")),
        )
        routes.add_orders(app, local, placement.place)
    else:
        getattr(routes, f"add_{capability}")(app, local)
    return app
