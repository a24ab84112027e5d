"""Start-up steps that outlast a network still coming up: every style's services use these.

Seen in the container tests and in CI on a loaded host: a service started beside a dozen others got
``socket.gaierror: Name or service not known`` (or ``Temporary failure in name resolution``) from
the network's DNS (aardvark-dns) while it was still registering the containers, and exited, so the
deployment never became ready. Connecting to the database already retried; the steps after it
(schema creation under an advisory lock opens new pool connections, the broker's consumer groups)
did not. :func:`retrying` runs such a step again until ``timeout_s``. Later in CI the event-driven
API's first broker ``PING`` ended in redis-py's ``TimeoutError`` on a loaded host, which is not a
``ConnectionError``: both count as unreachable (:data:`.broker.UNREACHABLE`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from .broker import UNREACHABLE
from .database import PostgresDatabase
from .domain import install

log = logging.getLogger("archsim.startup")

T = TypeVar("T")
TRANSIENT = UNREACHABLE  #: Errors a start-up step meets while the network's names are not all resolvable yet.


async def retrying(step: Callable[[], Awaitable[T]], what: str, timeout_s: float = 90.0) -> T:
    """Await ``step()`` again every 0.5 s while it fails with a transient network error, up to ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            return await step()
        except TRANSIENT as error:
            if loop.time() > deadline:
                raise
            log.warning("%s failed (%s): retrying", what, error)
            await asyncio.sleep(0.5)


async def open_with_schema(db: PostgresDatabase, capabilities: Sequence[str], lock_key: int) -> None:
    """Connect to ``db`` and create the tables of ``capabilities`` once across replicas (advisory lock ``lock_key``)."""
    await db.open()

    async def schema() -> None:
        async with db.advisory_lock(lock_key):
            await install(db, list(capabilities))

    await retrying(schema, "creating the schema")
