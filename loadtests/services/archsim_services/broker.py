"""Redis Streams, the broker of the event-driven and space-based styles."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: Errors of a broker still starting or not yet resolvable by name. redis-py's ``TimeoutError``
#: ("Timeout connecting to server", seen in CI on a loaded host) is not a ``ConnectionError``.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


async def connect(url: str, timeout_s: float = 90.0) -> redis.Redis:
    """A client, once the broker answers (it may still be starting)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            await client.ping()
            return client
        except UNREACHABLE:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    """Create a consumer group reading the stream from its start (no-op when it exists)."""
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


async def consume(client: redis.Redis, stream: str, group: str, consumer: str, count: int = 64,
                  block_ms: int = 1000) -> list[tuple[str, dict[str, Any]]]:
    """The next new entries for this consumer (blocks up to ``block_ms``); empty when there are none."""
    answer = await client.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
    return [entry for _, entries in answer for entry in entries]


async def reclaim(client: redis.Redis, stream: str, group: str, consumer: str, min_idle_ms: int,
                  count: int = 64) -> list[tuple[str, dict[str, Any]]]:
    """Entries any consumer of the group read but left unacknowledged for ``min_idle_ms``, now
    claimed by ``consumer`` (``XAUTOCLAIM``); at most ``count``, oldest first.

    Redis 7 answers ``[next_id, entries, deleted_ids]`` (6.2 without ``deleted_ids``); entries
    deleted from the stream meanwhile are dropped from the pending list by Redis and skipped here.
    """
    claimed: list[tuple[str, dict[str, Any]]] = []
    start = "0-0"
    while len(claimed) < count:
        answer = await client.xautoclaim(stream, group, consumer, min_idle_ms, start_id=start, count=count - len(claimed))
        start, entries = answer[0], answer[1]
        claimed += [(entry_id, fields) for entry_id, fields in entries if entry_id is not None and fields is not None]
        if start in ("0-0", b"0-0"):
            break
    return claimed


async def deliveries(client: redis.Redis, stream: str, group: str, entry_id: str) -> int:
    """How many times the group has delivered a pending entry (0 when it is not pending)."""
    rows = await client.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
    return int(rows[0]["times_delivered"]) if rows else 0
