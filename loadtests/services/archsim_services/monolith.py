"""Monolith: every capability in one process, one shared PostgreSQL database."""

from __future__ import annotations

from aiohttp import web

from . import routes, settings
from .database import PostgresDatabase
from .domain import CAPABILITIES, Carts, Catalog, Inventory, Notifications, OrderPlacement, Orders, Payments
from .startup import open_with_schema
from .web import create_app

SCHEMA_LOCK = 7301  #: Advisory lock id: replicas create the schema one at a time.


def build_app() -> web.Application:
    app = create_app("monolith")
    db = PostgresDatabase(settings.database_url())
    catalog, carts, inventory = Catalog(db), Carts(db), Inventory(db)
    payments, notifications, orders = Payments(db), Notifications(db), Orders(db)
    placement = OrderPlacement(catalog, carts, orders, inventory, payments, notifications)

    async def lifecycle(app: web.Application):
        await open_with_schema(db, list(CAPABILITIES), SCHEMA_LOCK)
        yield
        await db.close()

    async def database_answers() -> None:
        await db.fetch("SELECT 1")

    app.cleanup_ctx.append(lifecycle)
    app["checks"].append(database_answers)
    routes.add_catalog(app, catalog)
    routes.add_carts(app, carts)
    routes.add_inventory(app, inventory)
    routes.add_payments(app, payments)
    routes.add_notifications(app, notifications)
    routes.add_orders(app, orders, placement.place)
    return app
