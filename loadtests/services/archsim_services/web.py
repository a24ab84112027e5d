"""What every service shares over HTTP: health, metrics and per-request CPU time.

Each route is named after the operation it serves (``browse``, ``add_to_cart``, ...). A middleware
awaits the handler under :class:`~.cpu.Metered`, puts the request's own CPU milliseconds in the
``X-CPU-Time-Ms`` response header and adds them to ``/metrics`` (Prometheus text, or JSON with
``?format=json``), which is what calibration reads as the service demand per operation.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import defaultdict
from typing import Any

from aiohttp import web

from .cpu import Metered
from .domain import NotFound

CPU_HEADER = "X-CPU-Time-Ms"  #: Response header: CPU milliseconds this service spent on the request.
VERSION_HEADER = "X-Archsim-Version"  #: Response header: the release this replica runs (``ARCHSIM_VERSION``).

log = logging.getLogger("archsim")


class OperationMetrics:
    """Counts, errors and CPU seconds per operation, since the process started."""

    def __init__(self, service: str):
        self.service = service
        self.started_s = time.time()
        self.requests: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.cpu_s: dict[str, float] = defaultdict(float)
        self.events: dict[str, int] = defaultdict(int)  #: Counts of things that are not requests (e.g. ``redelivered``).

    def count(self, event: str, n: int = 1) -> None:
        self.events[event] += n

    def record(self, operation: str, cpu_s: float, failed: bool) -> None:
        self.requests[operation] += 1
        self.cpu_s[operation] += cpu_s
        if failed:
            self.errors[operation] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "uptime_s": round(time.time() - self.started_s, 3),
            "process_cpu_s": round(time.process_time(), 6),
            "version": os.environ.get("ARCHSIM_VERSION", ""),
            "operations": {
                name: {
                    "requests": count,
                    "errors": self.errors[name],
                    "cpu_s_total": round(self.cpu_s[name], 6),
                    "cpu_ms_mean": round(1000.0 * self.cpu_s[name] / count, 4) if count else 0.0,
                }
                for name, count in sorted(self.requests.items())
            },
            "events": dict(sorted(self.events.items())),
        }

    def as_prometheus(self) -> str:
        label = f'service="{self.service}"'
        lines = [
            "# HELP archsim_requests_total Requests served, by operation.",
            "# TYPE archsim_requests_total counter",
            *(f'archsim_requests_total{{{label},operation="{op}"}} {n}' for op, n in sorted(self.requests.items())),
            "# HELP archsim_request_errors_total Requests answered with a 5xx status, by operation.",
            "# TYPE archsim_request_errors_total counter",
            *(f'archsim_request_errors_total{{{label},operation="{op}"}} {self.errors[op]}' for op in sorted(self.requests)),
            "# HELP archsim_request_cpu_seconds_total CPU seconds spent in requests, by operation.",
            "# TYPE archsim_request_cpu_seconds_total counter",
            *(f'archsim_request_cpu_seconds_total{{{label},operation="{op}"}} {s:.6f}' for op, s in sorted(self.cpu_s.items())),
            "# HELP archsim_process_cpu_seconds_total CPU seconds used by the whole process.",
            "# TYPE archsim_process_cpu_seconds_total counter",
            f"archsim_process_cpu_seconds_total{{{label}}} {time.process_time():.6f}",
            "# HELP archsim_events_total Events that are not requests (e.g. redelivered broker entries), by event.",
            "# TYPE archsim_events_total counter",
            *(f'archsim_events_total{{{label},event="{name}"}} {n}' for name, n in sorted(self.events.items())),
        ]
        return "\n".join(lines) + "\n"


def create_app(service: str) -> web.Application:
    """An aiohttp application with the metering middleware, ``/health`` and ``/metrics``."""
    metrics = OperationMetrics(service)

    @web.middleware
    async def metered(request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route
        meter = Metered(handler(request))
        failed = True
        try:
            try:
                response = await meter
            except NotFound as missing:
                response = web.json_response({"error": str(missing)}, status=404)
            failed = response.status >= 500
        finally:
            operation = request.get("operation") or (route.name if route is not None and route.name else "other")
            if operation not in ("health", "metrics"):
                metrics.record(operation, meter.cpu_s, failed)
        response.headers[CPU_HEADER] = f"{meter.cpu_s * 1000.0:.3f}"
        if version:
            response.headers.setdefault(VERSION_HEADER, version)  # a gateway passes its upstream's on
        return response

    version = os.environ.get("ARCHSIM_VERSION", "")
    app = web.Application(middlewares=[metered])
    app["metrics"] = metrics
    app["checks"] = []  # async callables raising when a dependency is unavailable
    if os.environ.get("ARCHSIM_FAIL_READINESS"):
        app["checks"].append(_never_ready)

    async def health(request: web.Request) -> web.Response:
        problems = []
        for check in request.app["checks"]:
            try:
                await check()
            except Exception as error:  # report, do not crash the probe
                problems.append(f"{type(error).__name__}: {error}")
        body = {"service": service, "status": "ok" if not problems else "unavailable", "problems": problems}
        return web.json_response(body, status=200 if not problems else 503)

    async def metrics_endpoint(request: web.Request) -> web.Response:
        if request.query.get("format") == "json":
            return web.json_response(metrics.as_json())
        return web.Response(text=metrics.as_prometheus(), content_type="text/plain")

    app.router.add_get("/health", health, name="health")
    app.router.add_get("/metrics", metrics_endpoint, name="metrics")
    return app


async def _never_ready() -> None:
    """The readiness check of a release built to fail it (``ARCHSIM_FAIL_READINESS``), for rollout tests."""
    raise RuntimeError("this release is built to fail readiness (ARCHSIM_FAIL_READINESS)")


def serve(app: web.Application) -> None:
    """Serve on ``ARCHSIM_PORT`` (8080); SIGTERM and SIGINT stop it gracefully (PID 1 safe)."""
    logging.basicConfig(level=os.environ.get("ARCHSIM_LOG_LEVEL", "WARNING"), format="%(asctime)s %(name)s %(message)s")
    port = int(os.environ.get("ARCHSIM_PORT", "8080"))
    web.run_app(app, host="0.0.0.0", port=port, access_log=None, print=None, handle_signals=True, shutdown_timeout=2.0)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body ({} when empty); a malformed body is a 400."""
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError as error:
        raise web.HTTPBadRequest(text=f"body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data
