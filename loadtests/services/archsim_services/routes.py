"""HTTP routes for each capability, named after the operation they serve.

The public API (what Locust calls, whatever the style):

=========  ==================================  ===============
operation  request                             answer
=========  ==================================  ===============
browse     ``GET /catalog/{product_id}``       the product
add_to_cart ``POST /carts/{cart_id}/items``     the cart's items
place_order ``POST /carts/{cart_id}/order``     the order (201; 202 while pending)
order_status ``GET /orders/{order_id}``        the order
=========  ==================================  ===============

The internal routes (``/carts/{cart_id}/items`` GET and DELETE, ``/reservations``, ``/payments``,
``/notifications``) are what microservices call on each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .domain import CartItem, Carts, Catalog, Inventory, Notifications, Order, Orders, Payments
from .web import read_json


def _items(data: dict) -> list[CartItem]:
    return [CartItem(int(i["product_id"]), int(i["quantity"])) for i in data.get("items", ())]


def add_catalog(app: web.Application, catalog: Catalog) -> None:
    async def browse(request: web.Request) -> web.Response:
        return web.json_response(await catalog.item(int(request.match_info["product_id"])))

    app.router.add_get("/catalog/{product_id:\\d+}", browse, name="browse")


def add_carts(app: web.Application, carts: Carts) -> None:
    async def add_to_cart(request: web.Request) -> web.Response:
        data = await read_json(request)
        items = await carts.add(request.match_info["cart_id"], int(data.get("product_id", 1)), int(data.get("quantity", 1)))
        return web.json_response({"items": [{"product_id": i.product_id, "quantity": i.quantity} for i in items]})

    async def cart_items(request: web.Request) -> web.Response:
        items = await carts.items(request.match_info["cart_id"])
        return web.json_response({"items": [{"product_id": i.product_id, "quantity": i.quantity} for i in items]})

    async def cart_clear(request: web.Request) -> web.Response:
        await carts.clear(request.match_info["cart_id"])
        return web.json_response({"cleared": True})

    app.router.add_post("/carts/{cart_id}/items", add_to_cart, name="add_to_cart")
    app.router.add_get("/carts/{cart_id}/items", cart_items, name="cart_items")
    app.router.add_delete("/carts/{cart_id}/items", cart_clear, name="cart_clear")


def add_inventory(app: web.Application, inventory: Inventory) -> None:
    async def reserve(request: web.Request) -> web.Response:
        data = await read_json(request)
        return web.json_response({"reserved": await inventory.reserve(str(data["order_id"]), _items(data))})

    app.router.add_post("/reservations", reserve, name="inventory")


def add_payments(app: web.Application, payments: Payments) -> None:
    async def charge(request: web.Request) -> web.Response:
        data = await read_json(request)
        return web.json_response({"status": await payments.charge(str(data["order_id"]), int(data["amount_cents"]))})

    app.router.add_post("/payments", charge, name="payment")


def add_notifications(app: web.Application, notifications: Notifications) -> None:
    async def send(request: web.Request) -> web.Response:
        data = await read_json(request)
        await notifications.send(str(data["order_id"]), str(data["message"]))
        return web.json_response({"sent": True})

    app.router.add_post("/notifications", send, name="notification")


def add_orders(app: web.Application, orders: Orders, place: Callable[[str], Awaitable[Order]]) -> None:
    """``place`` runs the style's order placement for a cart and returns the order as it stands."""

    async def place_order(request: web.Request) -> web.Response:
        order = await place(request.match_info["cart_id"])
        return web.json_response(order.as_json(), status=202 if order.status == "pending" else 201)

    async def order_status(request: web.Request) -> web.Response:
        return web.json_response((await orders.status(request.match_info["order_id"])).as_json())

    app.router.add_post("/carts/{cart_id}/order", place_order, name="place_order")
    app.router.add_get("/orders/{order_id}", order_status, name="order_status")
