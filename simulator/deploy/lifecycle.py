"""Bring a deployment up, report on it, take it down, and leave nothing behind.

Every container and network carries the labels ``archsim.project=archsim`` and
``archsim.style=<style>``; :func:`down` removes everything with the project label, so it also
cleans up after a crashed ``up``. :func:`up` checks the host port first, removes what it started
if anything fails or the user presses Ctrl-C (SIGINT) or the process gets SIGTERM, and returns
only once the entry point's ``/health`` answers 200 (the gateway's health is deep: every service
behind it answers too).
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from simulator.errors import EnvironmentProblem

from . import topology as topologies
from .engine import PROJECT_LABEL, Engine

STYLE_LABEL = "archsim.style"
ROLE_LABEL = "archsim.role"
URL_LABEL = "archsim.url"


@dataclass(frozen=True)
class Running:
    """One of our containers as the engine reports it."""

    name: str
    style: str
    role: str
    state: str
    url: str  #: Set on the entry point only.


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def healthy(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout_s) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def running(engine: Engine) -> list[Running]:
    """Every container of ours, whatever its state."""
    ids = engine.lines("ps", "--all", "--quiet", "--filter", f"label={PROJECT_LABEL}")
    if not ids:
        return []
    found = []
    for item in json.loads(engine.call("inspect", *ids).stdout or "[]"):
        labels = item.get("Config", {}).get("Labels") or {}
        found.append(Running(
            name=item.get("Name", "").lstrip("/"), style=labels.get(STYLE_LABEL, "?"), role=labels.get(ROLE_LABEL, "?"),
            state=item.get("State", {}).get("Status", "?"), url=labels.get(URL_LABEL, ""),
        ))
    return sorted(found, key=lambda r: r.name)


def down(engine: Engine) -> int:
    """Remove all our containers and networks; return how many containers were removed. Idempotent."""
    ids = engine.lines("ps", "--all", "--quiet", "--filter", f"label={PROJECT_LABEL}")
    if ids:
        engine.call(*engine.remove_argv(ids)[1:], timeout_s=180)
    networks = engine.lines("network", "ls", "--quiet", "--filter", f"label={PROJECT_LABEL}")
    if networks:
        engine.call("network", "rm", *networks, check=False)
    return len(ids)


@contextmanager
def _cleanup_on_interrupt(engine: Engine) -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt and remove everything if the block does not finish."""
    previous = signal.getsignal(signal.SIGTERM)

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    try:
        yield
    except BaseException:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the cleanup
        try:
            down(engine)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def up(engine: Engine, style: str, *, replicas: int = 1, port: int = topologies.DEFAULT_HOST_PORT,
       timeout_s: float = 180.0, log: Callable[[str], None] = print) -> str:
    """Start ``style``, wait until it answers, return its URL. Raises :class:`EnvironmentProblem`."""
    existing = running(engine)
    if existing:
        styles = sorted({r.style for r in existing})
        raise EnvironmentProblem(f"a deployment is already up ({', '.join(styles)}): run 'archsim deploy down' first")
    if not port_free(port):
        raise EnvironmentProblem(f"port {port} on 127.0.0.1 is in use: stop what uses it or pass --port with a free port")
    plan = topologies.build(style, replicas, topologies.Secrets(secrets.token_hex(16), secrets.token_hex(16)))
    url = f"http://127.0.0.1:{port}"
    labels = {"archsim.project": "archsim", STYLE_LABEL: style}
    with _cleanup_on_interrupt(engine):
        engine.call("network", "create", "--label", PROJECT_LABEL, "--label", f"{STYLE_LABEL}={style}", plan.network)
        for container in plan.containers:
            argv = engine.run_argv(
                name=container.name, image=container.image,
                labels={**labels, ROLE_LABEL: container.role, **({URL_LABEL: url} if container.entry else {})},
                network=plan.network, aliases=[container.group] if container.group else [],
                env=container.env, memory_mb=container.memory_mb, cpus=container.cpus, tmpfs_mb=container.tmpfs_mb,
                publish=f"127.0.0.1:{port}:{container.port}" if container.entry else None, command=container.command,
            )
            engine.call(*argv[1:])
        log(f"started {len(plan.containers)} containers for {style}; waiting for {url}/health")
        _wait_ready(engine, plan, url, timeout_s)
    return url


def _wait_ready(engine: Engine, plan: topologies.Topology, url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        stopped = [r for r in running(engine) if r.state not in ("running", "created", "configured")]
        if stopped:
            name = stopped[0].name
            tail = engine.call("logs", "--tail", "5", name, check=False)
            last = ((tail.stdout + tail.stderr).strip().splitlines() or ["no output"])[-1]
            raise EnvironmentProblem(f"container {name} stopped ({stopped[0].state}): {last[:200]}")
        if healthy(url):
            return
        if time.monotonic() > deadline:
            raise EnvironmentProblem(
                f"{plan.style} did not become ready within {timeout_s:.0f} s: see '{engine.name} logs {plan.entry.name}'"
            )
        time.sleep(0.5)
