"""Service-based: a few coarse domain services over one shared PostgreSQL database.

``ARCHSIM_CAPABILITIES`` names the capabilities this domain service hosts (comma-separated, e.g.
``catalog,carts`` for the storefront, ``orders,inventory,payments,notifications`` for ordering).
Inside a domain service capabilities call each other in-process; a capability of another domain
is reached over HTTP at ``ARCHSIM_<CAPABILITY>_URL`` (the same clients microservices use). Every
domain service uses the one shared database, as :mod:`simulator.scenario.styles.service_based` models it:
so placing an order in ``ordering`` reads the cart and the catalog from ``storefront`` over the
network and reserves, charges and notifies in-process.
"""

from __future__ import annotations

import os

from aiohttp import web

from . import clients, routes, settings
from .database import PostgresDatabase
from .domain import CAPABILITIES, OrderPlacement
from .startup import open_with_schema
from .web import create_app

SCHEMA_LOCK = 7304  #: Advisory lock id: domain services create their tables one at a time.
REMOTE_CLIENTS = {
    "catalog": clients.CatalogClient,
    "carts": clients.CartsClient,
    "inventory": clients.InventoryClient,
    "payments": clients.PaymentsClient,
    "notifications": clients.NotificationsClient,
}  #: How the order placement reaches a capability hosted by another domain service.


def hosted_capabilities() -> list[str]:
    """The capabilities named in ``ARCHSIM_CAPABILITIES``, checked against the domain."""
    names = [name.strip() for name in os.environ.get("ARCHSIM_CAPABILITIES", "").split(",") if name.strip()]
    unknown = [name for name in names if name not in CAPABILITIES]
    if not names or unknown:
        raise SystemExit(f"ARCHSIM_CAPABILITIES must list some of {sorted(CAPABILITIES)}, not {os.environ.get('ARCHSIM_CAPABILITIES')!r}")
    return names


def build_app() -> web.Application:
    names = hosted_capabilities()
    app = create_app(os.environ.get("ARCHSIM_DOMAIN", "-".join(names)))
    db = PostgresDatabase(settings.database_url())
    local = {name: CAPABILITIES[name](db) for name in names}
    remote = [name for name in REMOTE_CLIENTS if name not in local] if "orders" in local else []

    async def lifecycle(app: web.Application):
        await open_with_schema(db, names, SCHEMA_LOCK)
        if remote:
            await clients.open_session()
        yield
        if remote:
            await clients.close_session()
        await db.close()

    async def database_answers() -> None:
        await db.fetch("SELECT 1")

    app.cleanup_ctx.append(lifecycle)
    app["checks"].append(database_answers)
    for name, capability in local.items():
        if name != "orders":
            getattr(routes, f"add_{name}")(app, capability)
    if "orders" in local:
        ports = {name: local.get(name) or REMOTE_CLIENTS[name](settings.service_urls(name)) for name in REMOTE_CLIENTS}
        placement = OrderPlacement(orders=local["orders"], **ports)
        routes.add_orders(app, local["orders"], placement.place)
    return app
