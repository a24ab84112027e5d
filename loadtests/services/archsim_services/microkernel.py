"""Microkernel: a core system (catalog, carts, orders) with plug-ins called through a registry.

One process, one shared PostgreSQL database, as :mod:`simulator.scenario.styles.microkernel` models it: the
core capabilities are the ones a request starts in (browse, add to cart, place an order, read an
order) and call each other in-process; inventory, payments and notifications are plug-ins, loaded
at start-up from the modules in ``ARCHSIM_PLUGINS`` and called only through the plug-in registry
and its message contract (:mod:`.plugins`). It scales by replicating the whole unit.
``/plugins`` lists what is loaded and how often each contract operation was called.
"""

from __future__ import annotations

import os

from aiohttp import web

from . import routes, settings
from .database import PostgresDatabase
from .domain import CartItem, Carts, Catalog, OrderPlacement, Orders
from .plugins import DEFAULT_PLUGINS, Registry
from .startup import open_with_schema
from .web import create_app

SCHEMA_LOCK = 7305  #: Advisory lock id: replicas create the schema one at a time.
CORE = ("catalog", "carts", "orders")


class InventoryPort:
    """The order placement's view of the inventory plug-in."""

    def __init__(self, registry: Registry):
        self.registry = registry

    async def reserve(self, order_id: str, items: list[CartItem]) -> bool:
        message = {"order_id": order_id, "items": [{"product_id": i.product_id, "quantity": i.quantity} for i in items]}
        return bool((await self.registry.call("inventory", "reserve", message))["reserved"])


class PaymentsPort:
    def __init__(self, registry: Registry):
        self.registry = registry

    async def charge(self, order_id: str, amount_cents: int) -> str:
        return str((await self.registry.call("payments", "charge", {"order_id": order_id, "amount_cents": amount_cents}))["status"])


class NotificationsPort:
    def __init__(self, registry: Registry):
        self.registry = registry

    async def send(self, order_id: str, message: str) -> None:
        await self.registry.call("notifications", "send", {"order_id": order_id, "message": message})


def plugin_modules() -> list[str]:
    return [m.strip() for m in os.environ.get("ARCHSIM_PLUGINS", DEFAULT_PLUGINS).split(",") if m.strip()]


def build_app() -> web.Application:
    app = create_app("core")
    db = PostgresDatabase(settings.database_url())
    catalog, carts, orders = Catalog(db), Carts(db), Orders(db)
    registry = Registry.load(plugin_modules(), db)  # a bad plug-in stops start-up, before any traffic
    placement = OrderPlacement(catalog, carts, orders, InventoryPort(registry), PaymentsPort(registry), NotificationsPort(registry))

    async def lifecycle(app: web.Application):
        await open_with_schema(db, [*CORE, *registry.loaded], SCHEMA_LOCK)  # a plug-in's contract names the capability whose tables it uses
        yield
        await db.close()

    async def database_answers() -> None:
        await db.fetch("SELECT 1")

    async def plugins(request: web.Request) -> web.Response:
        return web.json_response({"loaded": registry.loaded, "calls": registry.calls})

    app.cleanup_ctx.append(lifecycle)
    app["checks"].append(database_answers)
    routes.add_catalog(app, catalog)
    routes.add_carts(app, carts)
    routes.add_orders(app, orders, placement.place)
    app.router.add_get("/plugins", plugins, name="plugins")
    return app
