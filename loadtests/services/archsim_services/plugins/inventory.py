"""Inventory plug-in: reserves stock for an order (contract ``inventory`` v1)."""

from ..domain import CartItem, Inventory
from . import Plugin


def handlers(db):
    inventory = Inventory(db)

    async def reserve(message):
        items = [CartItem(int(i["product_id"]), int(i["quantity"])) for i in message["items"]]
        return {"reserved": await inventory.reserve(str(message["order_id"]), items)}

    return {"reserve": reserve}


PLUGIN = Plugin("inventory", 1, handlers)
