"""Where a service finds its dependencies: environment variables set by the deployment."""

from __future__ import annotations

import os

DEFAULT_REDELIVER_AFTER_MS = 5000  #: Idle time after which another worker takes over an unacknowledged event.


def database_url() -> str:
    """PostgreSQL DSN (``ARCHSIM_DATABASE_URL``)."""
    return os.environ["ARCHSIM_DATABASE_URL"]


def broker_url() -> str:
    """Redis URL (``ARCHSIM_BROKER_URL``)."""
    return os.environ["ARCHSIM_BROKER_URL"]


def redeliver_after_ms() -> int:
    """Milliseconds an event may stay unacknowledged before a worker re-claims it
    (``ARCHSIM_REDELIVER_AFTER_MS``, default 5000)."""
    raw = os.environ.get("ARCHSIM_REDELIVER_AFTER_MS", str(DEFAULT_REDELIVER_AFTER_MS))
    value = int(raw)
    if value < 1:
        raise ValueError(f"ARCHSIM_REDELIVER_AFTER_MS must be a positive number of milliseconds, not {raw!r}")
    return value


def service_urls(capability: str) -> list[str]:
    """Base URLs of another capability's replicas (``ARCHSIM_<CAPABILITY>_URL``, comma-separated)."""
    raw = os.environ[f"ARCHSIM_{capability.upper()}_URL"]
    return [url.strip().rstrip("/") for url in raw.split(",") if url.strip()]


def upstreams() -> list[tuple[str, list[str]]]:
    """Gateway routes (``ARCHSIM_UPSTREAMS``): ``prefix=url,url;prefix=url``, most specific first."""
    return parse_upstreams(os.environ.get("ARCHSIM_UPSTREAMS", ""))


def parse_upstreams(spec: str) -> list[tuple[str, list[str]]]:
    """Routes from ``prefix=url,url;prefix=url`` (the format of ``ARCHSIM_UPSTREAMS``)."""
    routes = []
    for entry in filter(None, spec.strip().split(";")):
        prefix, _, urls = entry.partition("=")
        routes.append((prefix.strip(), [u.strip().rstrip("/") for u in urls.split(",") if u.strip()]))
    return routes
