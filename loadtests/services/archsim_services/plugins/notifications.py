"""Notifications plug-in: records the customer notification of an order (contract ``notifications`` v1)."""

from ..domain import Notifications
from . import Plugin


def handlers(db):
    notifications = Notifications(db)

    async def send(message):
        await notifications.send(str(message["order_id"]), str(message["message"]))
        return {"sent": True}

    return {"send": send}


PLUGIN = Plugin("notifications", 1, handlers)
