"""Shared host CPU: instances placed on one host run their CPU work on the host's cores.

On a real machine every container, the database and the load generator share the host's cores.
Here each host is one :class:`HostProcessor`. Its tenants are the instances on it (one cgroup
each) and, optionally, the load generator. A tenant's CPU jobs are the pieces of work its
instance runs at once (at most its ``cores`` threads: the instance queues the rest itself).

The host shares its cores like Linux's CFS does with cgroups. Tenants get shares of the host in
proportion to their weight (``cpu.weight``, 1 by default). No tenant gets more than its quota
(``--cpus``), and no job gets more than one core. What one tenant leaves unused goes to the others
(water-filling). Within a tenant every job runs at the same speed (processor sharing). Without
quotas and with equal weights, a host of ``c`` cores running ``n`` jobs serves ``min(n, c)``
core-seconds per second. With exponential demands, the number of jobs on the host then follows
the M/M/c birth-death chain.

Exact processor sharing with changing rates: all jobs of one tenant progress at the same rate,
so each tenant keeps a virtual clock (the work each of its jobs has received so far) and a heap of
its jobs' finishing virtual times. On every arrival and departure at the host the clocks are
brought up to date, the shares are recomputed, and the host's next completion is scheduled. Only
the latest scheduled completion is acted on; an earlier one that the new rates overtook is
ignored when it fires. A finished job is handed back to its instance by scheduling the job's own
event now (:attr:`~simulator.engine.station.Instance.run_cpu`).

The load generator is a tenant of the first host that receives ``cpu_per_request`` of work at
every request the workload sends. It is background load: it slows the others, not its requests.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from ..engine.events import NORMAL, Wakeup

EPSILON_S = 1e-12  #: Work below this (core-seconds) counts as done: guards float rounding at completions.


class Tenant:
    """One cgroup on a host: its weight, its quota, and its jobs under processor sharing."""

    __slots__ = ("name", "weight", "quota", "jobs", "clock", "rate", "busy_s")

    def __init__(self, name: str, weight: float, quota: float | None):
        self.name = name
        self.weight = weight
        self.quota = math.inf if quota is None else quota  #: Cores it may use at most.
        self.jobs: list = []  #: Heap of (finishing virtual time, sequence, job, priority).
        self.clock = 0.0  #: Work received by each of its jobs since it was created (core-seconds).
        self.rate = 0.0  #: Current speed of each of its jobs (cores).
        self.busy_s = 0.0  #: Core-seconds received in the measured window.


class HostProcessor:
    """The cores of one host, shared by its tenants (see the module docstring)."""

    def __init__(self, env, cores: int, warmup_s: float):
        self.env = env
        self.cores = cores
        self.warmup_s = warmup_s
        self.tenants: list[Tenant] = []
        self._t = env.now
        self._sequence = 0
        self._pending: Wakeup | None = None  #: The one completion that counts; older ones are ignored.

    def tenant(self, name: str, weight: float = 1.0, quota: float | None = None) -> Tenant:
        found = Tenant(name, weight, quota)
        self.tenants.append(found)
        return found

    def runner(self, tenant: Tenant):
        """A ``run_cpu(job, priority, demand_s)`` function that runs work as ``tenant`` on this host."""

        def run_cpu(job: Any, priority: int, demand_s: float) -> None:
            self.submit(tenant, job, priority, demand_s)

        return run_cpu

    def submit(self, tenant: Tenant, job: Any, priority: int, demand_s: float) -> None:
        """Start ``demand_s`` core-seconds of work; ``job`` is scheduled (triggered) when it is done."""
        self._advance()
        self._sequence += 1
        heapq.heappush(tenant.jobs, (tenant.clock + demand_s, self._sequence, job, priority))
        self._reshare()

    # --- processor sharing ---------------------------------------------------------------------

    def _advance(self) -> None:
        """Bring every tenant's virtual clock (and the busy integrals) up to now."""
        now = self.env.now
        elapsed = now - self._t
        if elapsed > 0.0:
            counted = now - max(self._t, self.warmup_s) if now > self.warmup_s else 0.0
            for tenant in self.tenants:
                if tenant.jobs:
                    tenant.clock += tenant.rate * elapsed
                    tenant.busy_s += tenant.rate * len(tenant.jobs) * counted
        self._t = now

    def _reshare(self) -> None:
        """Recompute every tenant's share (weighted water-filling) and schedule the next completion."""
        active = [t for t in self.tenants if t.jobs]
        left, weights = float(self.cores), sum(t.weight for t in active)
        for tenant in sorted(active, key=lambda t: min(len(t.jobs), t.quota) / t.weight):
            cap = min(len(tenant.jobs), tenant.quota)
            share = min(cap, left * tenant.weight / weights)
            tenant.rate = share / len(tenant.jobs)
            left -= share
            weights -= tenant.weight
        soonest = math.inf
        for tenant in active:
            if tenant.rate > 0.0:
                soonest = min(soonest, max(0.0, tenant.jobs[0][0] - tenant.clock) / tenant.rate)
        if soonest < math.inf:
            self._pending = Wakeup(self._complete)
            self._pending.payload = self._pending
            self.env.schedule(self._pending, NORMAL, soonest)
        else:
            self._pending = None

    def _complete(self, event: Wakeup) -> None:
        if event is not self._pending:
            return  # overtaken by a later arrival or departure
        self._advance()
        schedule = self.env.schedule
        for tenant in self.tenants:
            jobs = tenant.jobs
            while jobs and jobs[0][0] - tenant.clock <= EPSILON_S * max(1.0, tenant.clock):
                _, _, job, priority = heapq.heappop(jobs)
                schedule(job, priority, 0.0)
        self._reshare()

    # --- reporting -----------------------------------------------------------------------------

    def summary(self, measured_s: float) -> dict[str, Any]:
        self._advance()
        used = {t.name: t.busy_s / measured_s if measured_s > 0 else None for t in self.tenants}
        total = sum(v for v in used.values() if v is not None)
        return {"cores": self.cores, "utilisation": total / self.cores if measured_s > 0 else None, "cores_used": used}


class HostCpu:
    """Shared CPU for a whole simulation: one processor per host, every instance a tenant."""

    def __init__(self, sim, spec, pool, fleets: dict):
        """``spec`` is the scenario's ``hosts`` section (``cpu: shared``), ``pool`` its host pool."""
        self.sim = sim
        self.spec = spec
        warmup_s = sim.scenario.warmup_s
        self.processors: dict[int, HostProcessor] = {}
        first = pool.hosts[0]  # `cpu: shared` needs `initial` >= 1 (spec.Hosts)
        for name, fleet in fleets.items():
            for member in fleet.members:
                host = member.host or first
                processor = self._processor(host, warmup_s)
                instance = member.instance
                tenant = processor.tenant(f"{name}[{instance.index}]", spec.cpu_weights.get(name, 1.0), spec.cpu_limits.get(name))
                instance.run_cpu = processor.runner(tenant)
        generator = spec.load_generator
        if generator is not None:
            processor = self._processor(first, warmup_s)
            tenant = processor.tenant("load_generator", 1.0, generator.processes)
            sim.roots = [_Generated(root, processor, tenant, generator.cpu_per_request_s) for root in sim.roots]

    def _processor(self, host, warmup_s: float) -> HostProcessor:
        if host.index not in self.processors:
            self.processors[host.index] = HostProcessor(self.sim.env, host.cores, warmup_s)
        return self.processors[host.index]

    def summary(self, end_s: float) -> dict[str, Any]:
        measured_s = end_s - self.sim.scenario.warmup_s
        return {f"host{index}": p.summary(measured_s) for index, p in sorted(self.processors.items())}


class _Generated:
    """A class's entry step that first hands the load generator its CPU work for the request."""

    __slots__ = ("root", "processor", "tenant", "cpu_s")

    def __init__(self, root, processor: HostProcessor, tenant: Tenant, cpu_s: float):
        self.root = root
        self.processor = processor
        self.tenant = tenant
        self.cpu_s = cpu_s

    def start(self, request: Any, k, parent) -> None:
        self.processor.submit(self.tenant, Wakeup(_nothing), NORMAL, self.cpu_s)
        self.root.start(request, k, parent)


def _nothing(_payload: Any) -> None:
    """The generator's work has no continuation: it only occupies the host."""
