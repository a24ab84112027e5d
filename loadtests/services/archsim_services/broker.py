"""Redis Streams, the broker of the event-driven and space-based styles."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError


async def connect(url: str, timeout_s: float = 90.0) -> redis.Redis:
    """A client, once the broker answers (it may still be starting)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            await client.ping()
            return client
        except (RedisConnectionError, OSError):
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


async def consume(client: redis.Redis, stream: str, group: str, consumer: str, count: int = 64) -> list[tuple[str, dict[str, Any]]]:
    """The next entries for this consumer (blocks up to one second); empty when there are none."""
    answer = await client.xreadgroup(group, consumer, {stream: ">"}, count=count, block=1000)
    return [entry for _, entries in answer for entry in entries]
