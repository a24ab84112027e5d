"""The load generator's own CPU, watched while it runs (psutil).

A generator that runs out of CPU sends late and measures its own queueing as the target's latency.
:class:`CpuWatch` samples, every ``interval_s`` in a background thread, the CPU time of the Locust
process and all its children (the master and ``--workers N`` workers), and the whole machine's
CPU (other tenants of a shared machine show there). Its summary gives the mean cores the generator
used, the busiest Locust process's share of one core (the 90th percentile over the sampling
intervals of the busiest process in each: a process near 100% cannot go faster, Locust is
single-threaded per process), and the machine's mean busy share.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psutil

SATURATED_PROCESS_SHARE = 0.9  #: A Locust process using this much of one core is saturated.


class CpuWatch:
    """Samples a process tree's CPU from :meth:`start` to :meth:`stop`."""

    def __init__(self, interval_s: float = 0.5):
        self.interval_s = interval_s
        self.samples = 0
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._first: dict[int, tuple[float, float]] = {}  #: pid -> (wall, cpu seconds) at first sight
        self._last: dict[int, tuple[float, float]] = {}
        self._machine: list[float] = []
        self._busiest: list[float] = []  #: Per interval: the largest share of a core any process used.
        self._previous: dict[int, tuple[float, float]] = {}

    def start(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        psutil.cpu_percent(None)  # prime the machine-wide counter
        self._thread = threading.Thread(target=self._loop, name="archsim-cpu-watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._done.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        try:
            processes = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return
        now = time.monotonic()
        busiest = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            cpu = times.user + times.system
            self._first.setdefault(process.pid, (now, cpu))
            self._last[process.pid] = (now, cpu)
            before = self._previous.get(process.pid)
            if before is not None and now > before[0]:
                busiest = max(busiest, (cpu - before[1]) / (now - before[0]))
            self._previous[process.pid] = (now, cpu)
        if self.samples:
            self._busiest.append(busiest)
        self._machine.append(psutil.cpu_percent(None) / 100.0)
        self.samples += 1

    def stop(self) -> None:
        if self._thread is None:
            return
        self._sample()
        self._done.set()
        self._thread.join(timeout=5)
        self._thread = None

    def summary(self) -> dict[str, Any]:
        """``processes``, ``mean_cores``, ``busiest_process_share``, ``machine_busy_share``, ``cores``."""
        total_cpu = sum(self._last[pid][1] - c0 for pid, (_, c0) in self._first.items())
        span = 0.0
        busiest = sorted(self._busiest)
        if self._first:
            span = max(t for t, _ in self._last.values()) - min(t for t, _ in self._first.values())
        return {
            "processes": len(self._first),
            "mean_cores": total_cpu / span if span > 0 else 0.0,
            "busiest_process_share": busiest[int(0.9 * (len(busiest) - 1))] if busiest else 0.0,
            "machine_busy_share": sum(self._machine) / len(self._machine) if self._machine else 0.0,
            "cores": psutil.cpu_count() or 1,
        }
