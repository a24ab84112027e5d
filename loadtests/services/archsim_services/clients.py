"""Capabilities reached over HTTP: what one microservice uses to call another.

Each client has the same methods as the in-process capability it stands for (see the ports in
:mod:`.domain`), so :class:`~.domain.OrderPlacement` runs unchanged over the network.
"""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp

from .domain import CartItem, NotFound


class HttpCapability:
    """Base for clients: one shared session per process, opened at start-up; replicas round-robin."""

    session: aiohttp.ClientSession | None = None  #: Set by :func:`open_session`.

    def __init__(self, base_urls: list[str]):
        self._base_urls = itertools.cycle(base_urls)  # replicas, used round-robin

    async def _call(self, method: str, path: str, json: Any = None) -> Any:
        assert HttpCapability.session is not None, "open_session() first"
        async with HttpCapability.session.request(method, next(self._base_urls) + path, json=json) as response:
            if response.status == 404:
                raise NotFound(f"{method} {path}: 404")
            response.raise_for_status()
            return await response.json()


async def open_session() -> None:
    connector = aiohttp.TCPConnector(limit=256, ttl_dns_cache=300)
    HttpCapability.session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))


async def close_session() -> None:
    if HttpCapability.session is not None:
        await HttpCapability.session.close()
        HttpCapability.session = None


def _items_json(items: list[CartItem]) -> list[dict[str, int]]:
    return [{"product_id": i.product_id, "quantity": i.quantity} for i in items]


class CatalogClient(HttpCapability):
    async def item(self, product_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/catalog/{product_id}")


class CartsClient(HttpCapability):
    async def items(self, cart_id: str) -> list[CartItem]:
        data = await self._call("GET", f"/carts/{cart_id}/items")
        return [CartItem(int(i["product_id"]), int(i["quantity"])) for i in data["items"]]

    async def clear(self, cart_id: str) -> None:
        await self._call("DELETE", f"/carts/{cart_id}/items")


class InventoryClient(HttpCapability):
    async def reserve(self, order_id: str, items: list[CartItem]) -> bool:
        data = await self._call("POST", "/reservations", {"order_id": order_id, "items": _items_json(items)})
        return bool(data["reserved"])


class PaymentsClient(HttpCapability):
    async def charge(self, order_id: str, amount_cents: int) -> str:
        data = await self._call("POST", "/payments", {"order_id": order_id, "amount_cents": amount_cents})
        return str(data["status"])


class NotificationsClient(HttpCapability):
    async def send(self, order_id: str, message: str) -> None:
        await self._call("POST", "/notifications", {"order_id": order_id, "message": message})
