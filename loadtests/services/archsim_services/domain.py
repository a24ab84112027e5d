"""The shop's business operations, written once for every architecture style.

Each capability owns its tables (``SCHEMA``) and works through a :class:`~.database.Database`:
the monolith gives them all one database, microservices one database each, the space-based style
an in-memory replica. Placing an order is the one workflow that spans capabilities; it is written
against the capability *interfaces*, so the same :class:`OrderPlacement` runs in-process (monolith),
over HTTP clients (microservices) or split in two halves around a broker (event-driven).

Every operation burns its configured CPU cost (:func:`.cpu.burn`) as real computation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from .cpu import burn
from .database import Database

PRODUCT_COUNT = 1000  #: Products seeded in the catalog (ids 1..PRODUCT_COUNT).
INITIAL_STOCK = 1_000_000_000  #: Units in stock per product: the load never sells out.
SEED_ORDER_ID = "seed-order"  #: An order that exists from the start, for status reads before any order.


class NotFound(LookupError):
    """The requested product, cart content or order does not exist (HTTP 404)."""


@dataclass(frozen=True)
class CartItem:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class Order:
    order_id: str
    cart_id: str
    total_cents: int
    status: str  #: ``pending``, ``confirmed`` or ``rejected``.
    items: tuple[CartItem, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "cart_id": self.cart_id,
            "total_cents": self.total_cents,
            "status": self.status,
            "items": [{"product_id": i.product_id, "quantity": i.quantity} for i in self.items],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Order":
        items = tuple(CartItem(int(i["product_id"]), int(i["quantity"])) for i in data.get("items", ()))
        return cls(str(data["order_id"]), str(data["cart_id"]), int(data["total_cents"]), str(data["status"]), items)


def price_cents(product_id: int) -> int:
    """The seeded price of a product: deterministic, so every replica seeds the same catalog."""
    return 100 + (product_id * 37) % 9900


# ---------------------------------------------------------------------------------- capabilities


class Catalog:
    SCHEMA = ["CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL)"]

    def __init__(self, db: Database):
        self.db = db

    async def seed(self) -> None:
        if await self.db.fetchrow("SELECT id FROM products WHERE id = $1", PRODUCT_COUNT):
            return
        async with self.db.transaction() as tx:
            for product_id in range(1, PRODUCT_COUNT + 1):
                await tx.execute(
                    "INSERT INTO products (id, name, price_cents) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                    product_id, f"product-{product_id}", price_cents(product_id),
                )

    async def item(self, product_id: int) -> dict[str, Any]:
        """Browse: one catalog item."""
        row = await self.db.fetchrow("SELECT id, name, price_cents FROM products WHERE id = $1", product_id)
        burn("browse")
        if row is None:
            raise NotFound(f"no product {product_id}")
        return row


class Carts:
    SCHEMA = [
        "CREATE TABLE IF NOT EXISTS cart_items (cart_id TEXT NOT NULL, product_id INTEGER NOT NULL,"
        " quantity INTEGER NOT NULL, PRIMARY KEY (cart_id, product_id))"
    ]

    def __init__(self, db: Database):
        self.db = db

    async def seed(self) -> None:
        pass

    async def add(self, cart_id: str, product_id: int, quantity: int) -> list[CartItem]:
        """Add to cart: put ``quantity`` of a product in the cart; return the cart's content."""
        burn("add_to_cart")
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)"
                " ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity",
                cart_id, product_id, quantity,
            )
            rows = await tx.fetch("SELECT product_id, quantity FROM cart_items WHERE cart_id = $1 ORDER BY product_id", cart_id)
        return [CartItem(r["product_id"], r["quantity"]) for r in rows]

    async def items(self, cart_id: str) -> list[CartItem]:
        rows = await self.db.fetch("SELECT product_id, quantity FROM cart_items WHERE cart_id = $1 ORDER BY product_id", cart_id)
        return [CartItem(r["product_id"], r["quantity"]) for r in rows]

    async def clear(self, cart_id: str) -> None:
        await self.db.execute("DELETE FROM cart_items WHERE cart_id = $1", cart_id)


class Inventory:
    SCHEMA = [
        "CREATE TABLE IF NOT EXISTS stock (product_id INTEGER PRIMARY KEY, available BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS reservations (order_id TEXT NOT NULL, product_id INTEGER NOT NULL,"
        " quantity INTEGER NOT NULL, PRIMARY KEY (order_id, product_id))",
    ]

    def __init__(self, db: Database):
        self.db = db

    async def seed(self) -> None:
        if await self.db.fetchrow("SELECT product_id FROM stock WHERE product_id = $1", PRODUCT_COUNT):
            return
        async with self.db.transaction() as tx:
            for product_id in range(1, PRODUCT_COUNT + 1):
                await tx.execute(
                    "INSERT INTO stock (product_id, available) VALUES ($1, $2) ON CONFLICT (product_id) DO NOTHING",
                    product_id, INITIAL_STOCK,
                )

    async def reserve(self, order_id: str, items: list[CartItem]) -> bool:
        """Reserve every item of an order, all or nothing; False when any is out of stock.

        Idempotent per order: the reservation row and the stock decrement commit together, so
        reserving the same order again leaves the stock as it is and answers True.
        """
        burn("inventory")
        try:
            async with self.db.transaction() as tx:
                for item in items:
                    recorded = await tx.execute(
                        "INSERT INTO reservations (order_id, product_id, quantity) VALUES ($1, $2, $3)"
                        " ON CONFLICT (order_id, product_id) DO NOTHING",
                        order_id, item.product_id, item.quantity,
                    )
                    if recorded == 0:
                        continue  # reserved already (a redelivered event or a retried request): take stock once
                    changed = await tx.execute(
                        "UPDATE stock SET available = available - $2 WHERE product_id = $1 AND available >= $2",
                        item.product_id, item.quantity,
                    )
                    if changed != 1:
                        raise _OutOfStock
        except _OutOfStock:
            return False
        return True


class _OutOfStock(Exception):
    pass


class Payments:
    SCHEMA = [
        "CREATE TABLE IF NOT EXISTS payments (order_id TEXT PRIMARY KEY, amount_cents INTEGER NOT NULL, status TEXT NOT NULL)"
    ]

    def __init__(self, db: Database):
        self.db = db

    async def seed(self) -> None:
        pass

    async def charge(self, order_id: str, amount_cents: int) -> str:
        """Take payment for an order (an internal ledger: no card network is called)."""
        burn("payment")
        await self.db.execute(
            "INSERT INTO payments (order_id, amount_cents, status) VALUES ($1, $2, 'captured')"
            " ON CONFLICT (order_id) DO NOTHING",
            order_id, amount_cents,
        )
        return "captured"


class Notifications:
    SCHEMA = [
        "CREATE TABLE IF NOT EXISTS notifications (order_id TEXT PRIMARY KEY, message TEXT NOT NULL)"
    ]

    def __init__(self, db: Database):
        self.db = db

    async def seed(self) -> None:
        pass

    async def send(self, order_id: str, message: str) -> None:
        """Record the customer notification for an order (the outbox a mailer would drain)."""
        burn("notification")
        await self.db.execute(
            "INSERT INTO notifications (order_id, message) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING",
            order_id, message,
        )


class Orders:
    SCHEMA = [
        "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, cart_id TEXT NOT NULL,"
        " total_cents INTEGER NOT NULL, status TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS order_items (order_id TEXT NOT NULL, product_id INTEGER NOT NULL,"
        " quantity INTEGER NOT NULL, PRIMARY KEY (order_id, product_id))",
    ]

    def __init__(self, db: Database):
        self.db = db

    async def seed(self) -> None:
        await self.db.execute(
            "INSERT INTO orders (order_id, cart_id, total_cents, status) VALUES ($1, 'seed-cart', 0, 'confirmed')"
            " ON CONFLICT (order_id) DO NOTHING",
            SEED_ORDER_ID,
        )

    async def create(self, order_id: str, cart_id: str, items: list[CartItem], total_cents: int) -> Order:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO orders (order_id, cart_id, total_cents, status) VALUES ($1, $2, $3, 'pending')",
                order_id, cart_id, total_cents,
            )
            for item in items:
                await tx.execute(
                    "INSERT INTO order_items (order_id, product_id, quantity) VALUES ($1, $2, $3)",
                    order_id, item.product_id, item.quantity,
                )
        return Order(order_id, cart_id, total_cents, "pending", tuple(items))

    async def set_status(self, order_id: str, status: str) -> None:
        await self.db.execute("UPDATE orders SET status = $2 WHERE order_id = $1", order_id, status)

    async def state(self, order_id: str) -> str | None:
        """The order's status (``None`` when unknown), read without the ``order_status`` CPU cost."""
        row = await self.db.fetchrow("SELECT status FROM orders WHERE order_id = $1", order_id)
        return row["status"] if row else None

    async def status(self, order_id: str) -> Order:
        """Order status: the order as it stands."""
        burn("order_status")
        row = await self.db.fetchrow("SELECT order_id, cart_id, total_cents, status FROM orders WHERE order_id = $1", order_id)
        if row is None:
            raise NotFound(f"no order {order_id}")
        return Order(row["order_id"], row["cart_id"], row["total_cents"], row["status"])


CAPABILITIES = {
    "catalog": Catalog,
    "carts": Carts,
    "inventory": Inventory,
    "payments": Payments,
    "notifications": Notifications,
    "orders": Orders,
}  #: Capability name -> class; a microservice hosts one, the monolith all.


async def install(db: Database, names: list[str]) -> dict[str, Any]:
    """Create and seed the tables of the named capabilities in ``db``; return the capabilities."""
    capabilities = {name: CAPABILITIES[name](db) for name in names}
    for capability in capabilities.values():
        for ddl in capability.SCHEMA:
            await db.execute(ddl)
    for capability in capabilities.values():
        await capability.seed()
    return capabilities


# ------------------------------------------------------------------------------- the one workflow


class CatalogPort(Protocol):
    async def item(self, product_id: int) -> dict[str, Any]: ...


class CartsPort(Protocol):
    async def items(self, cart_id: str) -> list[CartItem]: ...
    async def clear(self, cart_id: str) -> None: ...


class OrdersPort(Protocol):
    async def create(self, order_id: str, cart_id: str, items: list[CartItem], total_cents: int) -> Order: ...
    async def set_status(self, order_id: str, status: str) -> None: ...


class InventoryPort(Protocol):
    async def reserve(self, order_id: str, items: list[CartItem]) -> bool: ...


class PaymentsPort(Protocol):
    async def charge(self, order_id: str, amount_cents: int) -> str: ...


class NotificationsPort(Protocol):
    async def send(self, order_id: str, message: str) -> None: ...


@dataclass
class OrderPlacement:
    """Place an order: :meth:`accept` records it, :meth:`fulfil` reserves, charges and notifies.

    Synchronous styles call :meth:`place` (both halves in one request); the event-driven style
    calls :meth:`accept` in the request and :meth:`fulfil` in a consumer of the broker.
    """

    catalog: CatalogPort
    carts: CartsPort
    orders: OrdersPort
    inventory: InventoryPort
    payments: PaymentsPort
    notifications: NotificationsPort

    async def accept(self, cart_id: str) -> Order:
        burn("place_order")
        items = await self.carts.items(cart_id)
        if not items:
            raise NotFound(f"cart {cart_id} is empty")
        total = 0
        for item in items:
            product = await self.catalog.item(item.product_id)
            total += product["price_cents"] * item.quantity
        order = await self.orders.create(uuid.uuid4().hex, cart_id, items, total)
        await self.carts.clear(cart_id)
        return order

    async def fulfil(self, order: Order) -> Order:
        """Reserve, charge, confirm and notify. Every step is keyed by the order id and idempotent,
        so fulfilling an order again (an event delivered twice) changes nothing more."""
        if not await self.inventory.reserve(order.order_id, list(order.items)):
            await self.orders.set_status(order.order_id, "rejected")
            return Order(order.order_id, order.cart_id, order.total_cents, "rejected", order.items)
        await self.payments.charge(order.order_id, order.total_cents)
        await self.orders.set_status(order.order_id, "confirmed")
        await self.notifications.send(order.order_id, f"order {order.order_id} confirmed: {order.total_cents} cents")
        return Order(order.order_id, order.cart_id, order.total_cents, "confirmed", order.items)

    async def place(self, cart_id: str) -> Order:
        return await self.fulfil(await self.accept(cart_id))
