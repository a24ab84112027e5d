"""Payments plug-in: charges an order (contract ``payments`` v1)."""

from ..domain import Payments
from . import Plugin


def handlers(db):
    payments = Payments(db)

    async def charge(message):
        return {"status": await payments.charge(str(message["order_id"]), int(message["amount_cents"]))}

    return {"charge": charge}


PLUGIN = Plugin("payments", 1, handlers)
