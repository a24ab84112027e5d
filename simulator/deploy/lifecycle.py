"""Bring a deployment up, report on it, take it down, and leave nothing behind.

Every container and network carries the labels ``archsim.project=<project>`` and
``archsim.style=<style>`` (:mod:`.project`); :func:`down` removes everything with its project's
label, and nothing else, so it also cleans up after a crashed ``up`` without touching another
project's deployment. :func:`up` publishes the entry point on a host port chosen free at run time
(unless one is given, which it checks first), removes what it started if anything fails or the
user presses Ctrl-C (SIGINT) or the process gets SIGTERM, and returns only once the entry point's
``/health`` answers 200 (the gateway's health is deep: every service behind it answers too).
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

from . import project as projects
from . import topology as topologies
from .engine import Engine

PORT_ATTEMPTS = 3  #: Free ports tried when another process takes the chosen one before the entry point binds it.


@dataclass(frozen=True)
class Running:
    """One of our containers as the engine reports it."""

    name: str
    style: str
    role: str
    state: str
    url: str  #: Set on the entry point only.
    project: str = projects.DEFAULT_PROJECT


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def get_inside(engine: Engine, container: str, path: str, port: int = topologies.SERVICE_PORT, timeout_s: float = 5.0):
    """GET ``path`` from a service inside its own container (``podman exec``), so the host never
    dials a container address and no host port is involved: ``port`` is the one the service
    listens on in the container's namespace. Returns the finished process: the body on stdout,
    exit code 0 only for a 2xx answer."""
    script = ("import sys, urllib.request\n"
              f"print(urllib.request.urlopen('http://127.0.0.1:{int(port)}' + sys.argv[1], timeout={float(timeout_s)}).read().decode())")
    return engine.call("exec", container, "python3", "-c", script, path, check=False)


def healthy(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout_s) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _filter(project: str | None) -> str:
    """``label=archsim.project=<project>``, or every project's (``label=archsim.project``) for ``"*"``."""
    return f"label={projects.PROJECT_KEY}" if project == "*" else f"label={projects.label(projects.current(project))}"


def running(engine: Engine, project: str | None = None) -> list[Running]:
    """Every container of ``project`` (default: :func:`.project.current`; ``"*"``: every project), whatever its state."""
    ids = engine.lines("ps", "--all", "--quiet", "--filter", _filter(project))
    if not ids:
        return []
    found = []
    for item in json.loads(engine.call("inspect", *ids).stdout or "[]"):
        labels = item.get("Config", {}).get("Labels") or {}
        found.append(Running(
            name=item.get("Name", "").lstrip("/"), style=labels.get(projects.STYLE_KEY, "?"),
            role=labels.get(projects.ROLE_KEY, "?"), state=item.get("State", {}).get("Status", "?"),
            url=labels.get(projects.URL_KEY, ""), project=labels.get(projects.PROJECT_KEY, "?"),
        ))
    return sorted(found, key=lambda r: (r.project, r.name))


def down(engine: Engine, project: str | None = None) -> int:
    """Remove the project's containers and networks (only its own); return how many containers. Idempotent."""
    selector = _filter(project)
    ids = engine.lines("ps", "--all", "--quiet", "--filter", selector)
    if ids:
        _remove(engine, selector, ids)
    networks = engine.lines("network", "ls", "--quiet", "--filter", selector)
    if networks:
        engine.call("network", "rm", *networks, check=False)
    return len(ids)


def _remove(engine: Engine, selector: str, ids: list[str], attempts: int = 3) -> None:
    """Force-remove ``ids``; try again for those left, since a container exiting at that moment makes ``rm`` fail.

    Seen in CI: a microservice exited on its own while ``podman rm --force`` was stopping the
    project, and podman refused it with ``container state improper: stopped``. A second ``rm`` of
    the containers still listed removes it; only a failure that persists is reported.
    """
    for attempt in range(attempts):
        done = engine.call(*engine.remove_argv(ids)[1:], check=attempt == attempts - 1, timeout_s=180)
        if done.returncode == 0:
            return
        time.sleep(0.5)
        ids = engine.lines("ps", "--all", "--quiet", "--filter", selector)
        if not ids:
            return


@contextmanager
def _cleanup_on_interrupt(engine: Engine, project: str) -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt and remove the project's containers if the block does not finish."""
    previous = signal.getsignal(signal.SIGTERM)

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    try:
        yield
    except BaseException:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the cleanup
        try:
            down(engine, project)
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def up(engine: Engine, style: str, *, replicas: int = 1, port: int | None = None, project: str | None = None,
       timeout_s: float = 180.0, log: Callable[[str], None] = print) -> str:
    """Start ``style`` in ``project``, wait until it answers, return its URL. Raises :class:`EnvironmentProblem`.

    ``port`` None (the default) publishes the entry point on a port chosen free at run time.
    """
    name = projects.current(project)
    existing = running(engine, name)
    if existing:
        styles = sorted({r.style for r in existing})
        hint = "" if name == projects.DEFAULT_PROJECT else f" --project {name}"
        raise EnvironmentProblem(
            f"project {name!r} already has a deployment ({', '.join(styles)}): run 'archsim deploy down{hint}' first, "
            "or use another --project"
        )
    if port is not None and not port_free(port):
        raise EnvironmentProblem(f"port {port} on 127.0.0.1 is in use: stop what uses it, pass another --port, or omit --port")
    plan = topologies.build(style, replicas, topologies.Secrets(secrets.token_hex(16), secrets.token_hex(16)), name)
    labels = {projects.PROJECT_KEY: name, projects.STYLE_KEY: style}
    with _cleanup_on_interrupt(engine, name):
        engine.call("network", "create", "--label", projects.label(name), "--label", f"{projects.STYLE_KEY}={style}",
                    plan.network)
        url = ""
        for container in plan.containers:
            if not container.entry:
                engine.call(*_run_argv(engine, plan, container, labels, None)[1:])
                continue
            url = _start_entry(engine, plan, container, labels, port)
        log(f"started {len(plan.containers)} containers for {style} (project {name}); waiting for {url}/health")
        _wait_ready(engine, plan, url, timeout_s, name)
    return url


def _run_argv(engine: Engine, plan: topologies.Topology, container: topologies.Container, labels: dict[str, str],
              port: int | None) -> list[str]:
    url = {projects.URL_KEY: f"http://127.0.0.1:{port}"} if port is not None else {}
    return engine.run_argv(
        name=container.name, image=container.image, labels={**labels, projects.ROLE_KEY: container.role, **url},
        network=plan.network, aliases=[container.group] if container.group else [],
        env=container.env, memory_mb=container.memory_mb, cpus=container.cpus, tmpfs_mb=container.tmpfs_mb,
        publish=f"127.0.0.1:{port}:{container.port}" if port is not None else None, command=container.command,
    )


def _start_entry(engine: Engine, plan: topologies.Topology, container: topologies.Container, labels: dict[str, str],
                 port: int | None) -> str:
    """Start the published entry point; if another process takes a port chosen here first, try another."""
    def start(chosen: int) -> str:
        done = engine.call(*_run_argv(engine, plan, container, labels, chosen)[1:], check=False)
        return "" if done.returncode == 0 else ((done.stderr or done.stdout).strip() or "no output")

    retries = PORT_ATTEMPTS - 1 if port is None else 0
    chosen = port if port is not None else free_port()
    failure = start(chosen)
    while failure and retries and "address already in use" in failure:
        engine.call("rm", "--force", container.name, check=False)
        retries -= 1
        chosen = free_port()
        failure = start(chosen)
    if failure:
        raise EnvironmentProblem(f"starting {container.name} on 127.0.0.1:{chosen} failed: {failure.splitlines()[-1][:200]}")
    return f"http://127.0.0.1:{chosen}"


def _wait_ready(engine: Engine, plan: topologies.Topology, url: str, timeout_s: float, project: str) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        stopped = [r for r in running(engine, project) if r.state not in ("running", "created", "configured")]
        if stopped:
            name = stopped[0].name
            tail = engine.call("logs", "--tail", "10", name, check=False)
            raise EnvironmentProblem(f"container {name} stopped ({stopped[0].state}): {_telling_line(tail.stdout + tail.stderr)[:200]}")
        if healthy(url):
            return
        if time.monotonic() > deadline:
            raise EnvironmentProblem(
                f"{plan.style} did not become ready within {timeout_s:.0f} s: see '{engine.name} logs {plan.entry.name}'"
            )
        time.sleep(0.5)


def _telling_line(log: str) -> str:
    """The last line of a log that says error or fatal (the cause, not a hint after it), else its last line."""
    lines = [line.strip() for line in log.strip().splitlines() if line.strip()] or ["no output"]
    return next((line for line in reversed(lines) if any(word in line.lower() for word in ("error", "fatal"))), lines[-1])
