"""Gateway: the one public entry point in front of replicated or split services.

Routes come from ``ARCHSIM_UPSTREAMS`` (``/catalog=http://a:8080,http://b:8080;/carts/*/order=...``;
``*`` matches one path segment; the first matching prefix wins). Within a route the upstreams are
used round-robin, or, with ``ARCHSIM_BALANCE=sticky``, chosen by a hash of the ``X-Client-Id``
header (session affinity, which the space-based style needs so that a user's cart and orders stay
on the processing unit that holds them while replication catches up).

``/health`` is deep: it answers 200 only when every upstream does, so "the gateway is healthy"
means "the deployment is ready".

On SIGHUP the gateway reloads its routes from ``ARCHSIM_UPSTREAMS_FILE`` (default
``/tmp/archsim-upstreams``, same format), as ``nginx -s reload`` does: requests in flight finish
on the upstream they started on, new ones use the new table. ``archsim deploy rollout`` writes the
file and sends the signal to add a replica once it is ready and to take one out before it stops.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import signal
import zlib

import aiohttp
from aiohttp import web

from . import settings
from .web import CPU_HEADER, create_app

OPERATIONS = [
    ("GET", re.compile(r"^/catalog/\d+$"), "browse"),
    ("POST", re.compile(r"^/carts/[^/]+/items$"), "add_to_cart"),
    ("POST", re.compile(r"^/carts/[^/]+/order$"), "place_order"),
    ("GET", re.compile(r"^/orders/[^/]+$"), "order_status"),
]  #: The public API's operations, for the gateway's own metrics.

UPSTREAMS_FILE = "/tmp/archsim-upstreams"  #: Default of ``ARCHSIM_UPSTREAMS_FILE``, read on SIGHUP.

log = logging.getLogger("archsim.gateway")

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


def operation_of(method: str, path: str) -> str:
    for verb, pattern, operation in OPERATIONS:
        if verb == method and pattern.match(path):
            return operation
    return "other"


class Route:
    """A path prefix and the upstreams that serve it."""

    def __init__(self, prefix: str, urls: list[str], sticky: bool):
        boundary = "" if prefix.endswith("/") else "(/|$)"  # "/catalog" must not match "/catalogue"
        self.pattern = re.compile("^" + re.escape(prefix).replace(r"\*", "[^/]+") + boundary)
        self.urls = urls
        self.sticky = sticky
        self._next = itertools.cycle(range(len(urls)))

    def upstream(self, client_id: str | None) -> str:
        if self.sticky and client_id:
            return self.urls[zlib.crc32(client_id.encode()) % len(self.urls)]
        return self.urls[next(self._next)]


def build_app() -> web.Application:
    app = create_app("gateway")
    sticky = os.environ.get("ARCHSIM_BALANCE", "round_robin") == "sticky"
    table = [Route(prefix, urls, sticky) for prefix, urls in settings.upstreams()]
    session_holder: dict[str, aiohttp.ClientSession] = {}

    def reload() -> None:
        path = os.environ.get("ARCHSIM_UPSTREAMS_FILE", UPSTREAMS_FILE)
        try:
            with open(path, encoding="utf-8") as spec:
                routes = settings.parse_upstreams(spec.read())
        except OSError as error:
            log.warning("SIGHUP: routes kept, %s unreadable: %s", path, error)
            return
        if not routes or not all(urls for _, urls in routes):
            log.warning("SIGHUP: routes kept, %s names a route without upstreams", path)
            return
        table[:] = [Route(prefix, urls, sticky) for prefix, urls in routes]  # one assignment: no request sees half

    async def lifecycle(app: web.Application):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
        connector = aiohttp.TCPConnector(limit=512, ttl_dns_cache=300)
        session_holder["session"] = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=30), auto_decompress=False
        )
        yield
        await session_holder["session"].close()

    async def upstreams_healthy() -> None:
        urls = sorted({url for route in table for url in route.urls})
        session = session_holder["session"]

        async def probe(url: str) -> None:
            async with session.get(url + "/health", timeout=aiohttp.ClientTimeout(total=3)) as response:
                if response.status != 200:
                    raise RuntimeError(f"{url} answers {response.status}")

        await asyncio.gather(*(probe(url) for url in urls))

    async def proxy(request: web.Request) -> web.StreamResponse:
        path = request.rel_url.path
        request["operation"] = operation_of(request.method, path)
        route = next((r for r in table if r.pattern.match(path)), None)
        if route is None:
            raise web.HTTPNotFound(text=f"no upstream for {path}")
        upstream = route.upstream(request.headers.get("X-Client-Id"))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        try:
            async with session_holder["session"].request(
                request.method, upstream + str(request.rel_url), headers=headers, data=body or None
            ) as answer:
                payload = await answer.read()
                response = web.Response(body=payload, status=answer.status)
                for name, value in answer.headers.items():
                    if name.lower() not in _HOP_BY_HOP and name != CPU_HEADER:
                        response.headers[name] = value
                if CPU_HEADER in answer.headers:
                    response.headers["X-Upstream-CPU-Time-Ms"] = answer.headers[CPU_HEADER]
                return response
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            return web.json_response({"error": f"upstream {upstream}: {error}"}, status=502)

    app.cleanup_ctx.append(lifecycle)
    app["checks"].append(upstreams_healthy)
    app.router.add_route("*", "/{tail:.*}", proxy, name="proxy")
    return app
