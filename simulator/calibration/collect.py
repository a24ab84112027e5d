"""Collectors: CPU from cgroup and process counters, the services' per-request CPU, their /metrics.

- :class:`CpuSampler` reads cumulative CPU counters once a second in a thread: each container's
  cgroup (cgroup v1 ``cpuacct.usage`` in nanoseconds, or cgroup v2 ``cpu.stat`` ``usage_usec``;
  the container's cgroup is found from its main process, ``/proc/<pid>/cgroup``), the load
  generator's process tree (:class:`ProcessTreeCpu`: the ``archsim loadtest`` process, Locust and
  its workers, tier ``load_generator``) and the whole machine (:func:`machine_cpu_s`, tier
  ``machine``: every process, ours and other tenants'). The rows go to the run's ``cpu.csv``; the
  reader interpolates them at the measured window's ends. The generator's CPU per request enters
  the calibrated scenario's ``hosts.load_generator`` tenant; the machine's tells how much CPU
  others took (:func:`others_cores`).
- :func:`host_cores` is the core count the measurement ran on, recorded with every calibration
  (``deployment.host_cores`` in the manifest), so a folder read elsewhere keeps this machine's cores.
- :func:`cpu_report_locustfile` writes a locustfile that loads the style's own locustfile and adds
  a listener on Locust's ``request`` event, which appends each response's ``X-CPU-Time-Ms`` to
  ``cpu_reports.csv`` and notes the wall-clock start of the test, so CPU samples can be aligned
  with Locust's warm-up.
- :func:`metrics` reads a service's ``/metrics?format=json``.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil

from ..deploy.engine import Engine
from .structure import GENERATOR_TIER

SAMPLE_INTERVAL_S = 1.0
CPU_HEADER = "X-CPU-Time-Ms"
REPORTS_ENV = "ARCHSIM_CPU_REPORTS"  #: Path of cpu_reports.csv for the listener.
START_ENV = "ARCHSIM_TEST_START"  #: Path where the listener writes the test's wall-clock start.
GENERATOR = "load-generator"  #: Counter name of the load generator's process tree in cpu.csv (its tier: GENERATOR_TIER).
MACHINE = "machine"  #: Counter and tier name of the whole machine's busy CPU in cpu.csv.

CpuCounter = Path | Callable[[], float]  #: A cumulative CPU file, or a function returning CPU seconds so far.


def host_cores() -> int:
    """Cores this process may run on (its CPU affinity; the machine's count where affinity is unknown)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def machine_cpu_s() -> float:
    """Busy CPU seconds of the whole machine since boot: every core's time not idle (``/proc/stat``)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


class ProcessTreeCpu:
    """Cumulative CPU seconds of a process and every descendant seen so far (a callable counter).

    A descendant that exits keeps the CPU it had at its last sample, so the sum never goes back;
    a child that lived less than one sampling interval is missed (Locust's processes live for the
    whole run).
    """

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.seen: dict[int, float] = {}  #: pid -> CPU seconds at its last sample.

    def __call__(self) -> float:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            processes = []
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            self.seen[process.pid] = max(self.seen.get(process.pid, 0.0), times.user + times.system)
        return sum(self.seen.values())


def others_cores(tier_cores: dict[str, float], *, measured_tiers: list[str]) -> float | None:
    """Cores the machine spent beyond ``measured_tiers`` and the load generator (other tenants), if the machine was sampled."""
    if MACHINE not in tier_cores:
        return None
    ours = sum(tier_cores.get(t, 0.0) for t in [*measured_tiers, GENERATOR_TIER])
    return max(tier_cores[MACHINE] - ours, 0.0)


def cgroup_counter(pid: int) -> Path | None:
    """The cumulative CPU counter file of the cgroup holding ``pid`` (v1 cpuacct or v2), if readable."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpuacct" in controllers.split(","):
            for root in ("/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct"):
                candidate = Path(root + path) / "cpuacct.usage"
                if candidate.is_file():
                    return candidate
    for line in lines:
        if line.startswith("0::"):
            for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
                candidate = Path(root + line[3:]) / "cpu.stat"
                if candidate.is_file():
                    return candidate
    return None


def read_cpu_s(counter: CpuCounter) -> float:
    """CPU seconds so far from a ``cpuacct.usage`` (ns) or ``cpu.stat`` (usage_usec) file, or a callable counter."""
    if callable(counter):
        return counter()
    text = counter.read_text()
    if counter.name == "cpuacct.usage":
        return int(text.strip()) / 1e9
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value) / 1e6
    raise ValueError(f"{counter}: no usage_usec")


def container_counters(engine: Engine, containers: dict[str, str]) -> dict[str, tuple[str, Path]]:
    """Container name -> (tier, counter file) for each container of ``containers`` (name -> tier) that has one."""
    found = {}
    for name, tier in containers.items():
        pid = engine.call("inspect", "--format", "{{.State.Pid}}", name, check=False).stdout.strip()
        counter = cgroup_counter(int(pid)) if pid.isdigit() and int(pid) > 0 else None
        if counter is not None:
            found[name] = (tier, counter)
    return found


class CpuSampler:
    """Samples cumulative CPU of each counter once a second until stopped; rows are (epoch_s, counter, tier, cpu_s).

    The machine's own counter is always sampled (tier ``machine``); :meth:`add` adds one while it
    runs (the load generator, whose process exists only once the run has started).
    """

    def __init__(self, counters: dict[str, tuple[str, CpuCounter]], interval_s: float = SAMPLE_INTERVAL_S):
        self.counters: dict[str, tuple[str, CpuCounter]] = {**counters, MACHINE: (MACHINE, machine_cpu_s)}
        self.interval_s = interval_s
        self.rows: list[tuple[float, str, str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cpu-sampler")

    def add(self, name: str, tier: str, counter: CpuCounter) -> None:
        """Sample ``counter`` too, from now on (its first sample is taken at once)."""
        self.counters = {**self.counters, name: (tier, counter)}
        try:
            self.rows.append((time.time(), name, tier, read_cpu_s(counter)))
        except (OSError, ValueError, psutil.Error):
            pass

    def add_generator(self, pid: int) -> None:
        """Sample the load generator: the process ``pid`` and its descendants (Locust), tier ``load_generator``."""
        try:
            self.add(GENERATOR, GENERATOR_TIER, ProcessTreeCpu(pid))
        except psutil.Error:
            pass  # it has already exited: the run fails and says why

    def _sample(self) -> None:
        now = time.time()
        for name, (tier, counter) in self.counters.items():
            try:
                self.rows.append((now, name, tier, read_cpu_s(counter)))
            except (OSError, ValueError, psutil.Error):
                pass  # the container or process went away; its series simply ends

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "CpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()


LISTENER = '''"""Generated by archsim calibrate: the style's locustfile plus a per-request CPU listener."""
import os, sys, time
sys.path.insert(0, {locustfiles!r})
from {module} import *  # noqa: F401,F403 - the style's user classes
from locust import events

_reports = open(os.environ["{reports_env}"], "a", buffering=1)
if _reports.tell() == 0:
    _reports.write("tier,request_class,cpu_ms\\n")


@events.test_start.add_listener
def _started(environment, **_kwargs):
    with open(os.environ["{start_env}"], "w") as handle:
        handle.write(repr(time.time()))


@events.request.add_listener
def _cpu(name, response=None, exception=None, **_kwargs):
    if exception is None and response is not None:
        value = response.headers.get("{header}") if "{header}" and response.headers else None
        if value:
            _reports.write(_TIERS.get(name, {tier!r}) + "," + name + "," + value + "\\n")


_TIERS = {tiers!r}
'''


def cpu_report_locustfile(target: Path, style_locustfile: Path, tier: str, header: str = CPU_HEADER,
                          class_tiers: dict[str, str] | None = None) -> Path:
    """Write the listener locustfile (see the module docstring) at ``target``; reports are read from
    ``header`` (milliseconds), none when it is empty, and attributed to ``class_tiers[class]``
    (the deployable that served the class) or else ``tier``."""
    target.write_text(LISTENER.format(locustfiles=str(style_locustfile.parent), module=style_locustfile.stem,
                                      reports_env=REPORTS_ENV, start_env=START_ENV, header=header, tier=tier,
                                      tiers=dict(class_tiers or {})), encoding="utf-8")
    return target


def metrics(url: str, timeout_s: float = 5.0) -> dict | None:
    """A service's ``/metrics`` as JSON, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/metrics?format=json", timeout=timeout_s) as answer:
            return json.loads(answer.read())
    except (OSError, ValueError):
        return None
