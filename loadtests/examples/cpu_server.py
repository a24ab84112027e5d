"""A tiny HTTP server with a known CPU cost per path: the worked example of calibrating your own system.

Each path spins on the CPU for a fixed amount of the handling thread's own CPU time
(``time.thread_time``), so the cost is the same whatever else the machine is doing: contention
stretches the wall-clock time of a request, never its CPU. ``/light`` costs ``LIGHT_MS``,
``/heavy`` ``HEAVY_MS``; every response carries ``X-CPU-Time-Ms``, the CPU the request actually
used (the spin plus the HTTP handling of its own thread). Connections get a thread each, but
Python's global interpreter lock lets one thread run at a time, so the server is one core however
many threads it has. How that core is shared is ``--discipline``:

- ``fcfs`` (default): the spins run on one worker thread in arrival order (a FIFO queue), so the
  server is the model's station exactly: one core, first come first served. The interpreter's
  switch interval is 0.5 ms instead of 5 ms, so a connection thread that needs the lock to read
  a request or send a response waits at most that long behind the worker.
- ``threads``: each connection thread spins itself; the lock is handed over every 5 ms, so long
  requests are time-sliced (roughly processor sharing, which the model does not have), and every
  read and send of a request waits up to 5 ms for the lock while another request spins: the
  latency this adds grows with the number of requests in the server (docs/calibration.md).

``--fail-after S``
answers every request with HTTP 500 from S seconds after start (to show a target that errors).
``--cgroup DIR`` first creates the cgroup v2 directory DIR and moves the server into it (root
only), so its CPU can be read from ``DIR/cpu.stat``.

    python3 loadtests/examples/cpu_server.py --port 0 --cgroup /sys/fs/cgroup/unified/archsim-example
    # prints: listening on http://127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LIGHT_MS = 4.0  #: CPU per /light request, milliseconds.
HEAVY_MS = 12.0  #: CPU per /heavy request, milliseconds.
COSTS_MS = {"/light": LIGHT_MS, "/heavy": HEAVY_MS}
FCFS_SWITCH_INTERVAL_S = 0.0005  #: How often the interpreter lock is offered to waiting threads under ``fcfs``.


def spin(cpu_s: float) -> None:
    """Use ``cpu_s`` seconds of this thread's CPU."""
    end = time.thread_time() + cpu_s
    while time.thread_time() < end:
        pass


class Worker:
    """One thread that runs every request's spin in arrival order (``--discipline fcfs``)."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, daemon=True, name="cpu-worker").start()

    def _run(self) -> None:
        while True:
            cost_s, done = self.jobs.get()
            started = time.thread_time()
            spin(cost_s)
            done.append(time.thread_time() - started)
            done[0].set()

    def run(self, cost_s: float) -> float:
        """Queue ``cost_s`` of CPU behind the requests already queued; return the CPU seconds it took."""
        done: list = [threading.Event()]
        self.jobs.put((cost_s, done))
        done[0].wait()
        return done[1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a load generator expects
    fail_at: float = float("inf")
    worker: Worker | None = None  #: Set under ``--discipline fcfs``; None: each connection thread spins itself.

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        started = time.thread_time()
        cost_ms = COSTS_MS.get(self.path.split("?")[0])
        worked_s = 0.0
        if time.monotonic() >= self.fail_at:
            status, body = 500, b"failing on purpose (--fail-after)\n"
        elif cost_ms is None:
            status, body = 404, b"no such path: try /light or /heavy\n"
        elif self.worker is not None:
            worked_s = self.worker.run(cost_ms / 1e3)
            status, body = 200, b"ok\n"
        else:
            spin(cost_ms / 1e3)
            status, body = 200, b"ok\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-CPU-Time-Ms", f"{(time.thread_time() - started + worked_s) * 1e3:.3f}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        """Quiet: one line per request would cost more CPU than the light path."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  #: Listen backlog, for bursts of new connections.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--fail-after", type=float, default=None, metavar="S", help="answer 500 from S seconds after start")
    parser.add_argument("--cgroup", type=Path, default=None, metavar="DIR", help="create this cgroup v2 directory and run in it")
    parser.add_argument("--discipline", choices=("fcfs", "threads"), default="fcfs",
                        help="fcfs: one worker thread spins in arrival order (the model's station); threads: each connection spins, time-sliced")
    args = parser.parse_args()
    if args.discipline == "fcfs":
        sys.setswitchinterval(FCFS_SWITCH_INTERVAL_S)
        Handler.worker = Worker()
    if args.cgroup is not None:
        args.cgroup.mkdir(exist_ok=True)
        (args.cgroup / "cgroup.procs").write_text(str(os.getpid()))
    if args.fail_after is not None:
        Handler.fail_at = time.monotonic() + args.fail_after
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
