"""One measured start-up: the moments it went through, and its phases in seconds.

Every probe records wall-clock moments (``time.time()``, the clock the responder inside a process
or a container reads too, so its own "started" and "listening" stamps fall on the same axis) from
the moment the instance is asked for:

``asked`` -> [``pulled``: image present again (cold container only)] -> ``created`` (the create
command returned) -> ``started`` (the instance's own first sign of life: the responder's first
statement, or the microVM's init) -> ``listening`` (the server socket is open) -> ``answered``
(the first HTTP 200 seen by :func:`first_answer`, polling every :data:`POLL_S`).

Phases are differences of consecutive moments; ``runtime`` (what the platform models call
runtime create/start) is ``create`` + ``start``.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass, field

POLL_S = 0.005  #: Interval between readiness polls: the resolution of ``readiness``.
MOMENTS = ("asked", "pulled", "created", "started", "listening", "answered")
PHASES = ("image_pull", "create", "start", "app_init", "readiness")  #: Visible phases, in order.


@dataclass
class StartUp:
    """The moments (wall-clock seconds) of one start-up; ``pulled`` only when an image was loaded."""

    moments: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def mark(self, moment: str, at_s: float | None = None) -> float:
        self.moments[moment] = time.time() if at_s is None else at_s
        return self.moments[moment]

    def phases_s(self) -> dict[str, float]:
        """Seconds per visible phase (``image_pull`` only when measured) plus ``runtime`` and ``total``."""
        m = self.moments
        missing = [name for name in ("asked", "created", "started", "listening", "answered") if name not in m]
        if missing:
            raise ValueError(f"start-up not complete: no {', '.join(missing)}")
        before_create = m.get("pulled", m["asked"])
        phases = {
            "create": m["created"] - before_create,
            # the instance's first stamp can precede the create command's return by a scheduler
            # tick (a process runs before Popen returns): a phase is never negative
            "start": max(0.0, m["started"] - m["created"]),
            "app_init": max(0.0, m["listening"] - max(m["started"], m["created"])),
            "readiness": max(0.0, m["answered"] - max(m["listening"], m["created"])),
        }
        if "pulled" in m:
            phases = {"image_pull": m["pulled"] - m["asked"], **phases}
        phases["runtime"] = phases["create"] + phases["start"]
        phases["total"] = m["answered"] - m["asked"]
        return phases


def answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when ``GET /`` on host:port answers 200."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def first_answer(host: str, port: int, deadline_s: float, alive: Callable[[], str | None] = lambda: None) -> float:
    """Poll until ``GET /`` answers 200; return the wall-clock time it did.

    ``alive`` returns a reason when the instance has died (then polling stops with that reason);
    past ``deadline_s`` (wall clock) it stops too. Both raise :class:`TimeoutError` with a sentence.
    """
    while True:
        if answers(host, port, timeout_s=0.5):
            return time.time()
        reason = alive()
        if reason:
            raise TimeoutError(reason)
        if time.time() > deadline_s:
            raise TimeoutError(f"no HTTP 200 from {host}:{port} before the deadline")
        time.sleep(POLL_S)


def stamps(lines: list[str]) -> dict[str, float]:
    """The ``archsim-probe: <moment> <time>`` stamps printed by the responder, by moment."""
    found = {}
    for line in lines:
        parts = line.strip().split()
        if len(parts) == 3 and parts[0] == "archsim-probe:" and parts[1] in MOMENTS:
            found[parts[1]] = float(parts[2])
    return found
