"""The instances of one service through their lifecycle, and what that lifecycle measured.

requested -> provisioning -> starting -> ready -> (failed) -> stopping -> stopped. A new instance
waits for room on a host (if hosts are modelled) and for its provisioning (both shown as
``provisioning``), then pulls its image, starts its runtime and application and passes its
readiness probe (``starting``); only then does the load balancer send it traffic. Instances present
at t=0 are pre-provisioned: ready at once, no start-up paid. Stopping drains an instance (no new
traffic, in-flight requests finish) before it is removed.

A :class:`Fleet` also keeps the time-weighted facts the result needs: how long the service had at
least one ready instance (availability), the fewest ready instances during a rollout, billed
instance-seconds and every start-up's phases.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from ..engine.service import ServiceRuntime
from ..engine.station import Instance
from ..scenario.platform_defaults import Platform
from ..scenario.platform import PHASES
from .startup import StartupModel
from .versions import Version

PROVISIONING, STARTING, READY, FAILED, STOPPING, STOPPED = "provisioning", "starting", "ready", "failed", "stopping", "stopped"
ACTIVE = (PROVISIONING, STARTING, READY, FAILED)  #: States that count towards the replica count.


class Member:
    """One instance as the platform sees it."""

    __slots__ = ("instance", "state", "version", "host", "request_cores", "request_memory_mb", "billed_from", "billed_to", "process")

    def __init__(self, instance: Instance, state: str, version: Version, now: float):
        self.instance = instance
        self.state = state
        self.version = version
        self.host = None
        self.request_cores = 0.0
        self.request_memory_mb = 0.0
        self.billed_from = now  #: Billing starts when the instance is requested ...
        self.billed_to: float | None = None  #: ... and ends when it is stopped.
        self.process = None  #: Its start-up process while it has one (to cancel it).


class Fleet:
    """The platform-managed instances of one service."""

    def __init__(self, sim, runtime: ServiceRuntime, platform: Platform | None, hosts, explicit: bool):
        self.sim = sim
        self.env = sim.env
        self.runtime = runtime
        self.name = runtime.name
        self.platform = platform
        self.explicit = explicit  #: The service named its platform (so it is reported and billed).
        self.hosts = hosts
        self.startup = StartupModel(platform, sim.streams, runtime.name) if platform is not None else None
        self.base = Version("v1")
        self.members: list[Member] = []  #: Every member ever (stopped ones keep their billing times).
        self.startups: list[dict[str, float]] = []  #: Phases of each completed start-up.
        self.cache_hits = 0
        self.controlled = False  #: A rollout is running: the autoscaler keeps its hands off.
        self.down_until = 0.0  #: During a whole-service outage nothing becomes ready before this.
        self.on_change: list = []  #: Called as ``fn(fleet)`` whenever the ready count changes.
        # time-weighted availability over the measured window
        self._t = 0.0
        self._ready = len(runtime.ready)
        self.up_s = 0.0
        self.ready_area = 0.0

    # --- adoption and queries ------------------------------------------------------------------

    def adopt_initial(self, version: Version | None = None) -> None:
        """Take over the instances built at t=0 (replacing them by ``version``'s if it is not plain)."""
        version = version or self.base
        if not version.plain:
            for instance in list(self.runtime.instances):
                self.runtime.remove_instance(instance)
            for _ in range(self.runtime.spec.instances):
                instance = self.runtime.add_instance(ready=False, factory=version.factory())
                self.runtime.set_ready(instance, True)  # also re-picks the balancer's arrive function
        for instance in self.runtime.instances:
            member = Member(instance, READY, version, 0.0)
            self.members.append(member)
            if self.hosts is not None:
                self.hosts.place_now(member, *self._request())
        self._ready = len(self.runtime.ready)

    def active(self) -> list[Member]:
        return [m for m in self.members if m.state in ACTIVE]

    def count(self, state: str) -> int:
        return sum(1 for m in self.members if m.state == state)

    @property
    def replicas(self) -> int:
        """Instances that count towards the desired number (not stopping or stopped)."""
        return sum(1 for m in self.members if m.state in ACTIVE)

    @property
    def ready(self) -> int:
        return len(self.runtime.ready)

    def _request(self) -> tuple[float, float]:
        p = self.platform
        if p is None:
            return float(self.runtime.cores), 0.0
        return self.runtime.cores + p.overhead_cores, p.memory_mb + p.overhead_memory_mb

    # --- launching ------------------------------------------------------------------------------

    def launch(self, version: Version | None = None) -> Member:
        """Request a new instance; it serves once its start-up is over."""
        version = version or self.base
        instance = self.runtime.add_instance(ready=False, factory=version.factory())
        member = Member(instance, PROVISIONING, version, self.env.now)
        self.members.append(member)
        member.process = self.env.process(self._start(member))
        return member

    def _start(self, member: Member) -> Generator:
        try:
            if self.hosts is not None:
                yield from self.hosts.place(member, *self._request())
            phases = self.startup.sample()
            requested = member.billed_from
            if phases["provisioning"] > 0:
                yield self.env.timeout(phases["provisioning"])
            member.state = STARTING
            rest = phases["image_pull"] + phases["runtime"] + phases["app_init"] + phases["readiness"]
            if rest > 0:
                yield self.env.timeout(rest)
            if member.version.fails_readiness:
                yield self.env.event()  # never passes its probe; only a stop ends this
            if self.env.now < self.down_until:
                yield self.env.timeout(self.down_until - self.env.now)
            member.process = None
            waited = self.env.now - requested - sum(phases.values())
            phases["provisioning"] += max(0.0, waited)  # waiting for a host is part of provisioning
            self.startups.append(phases)
            if phases["image_pull"] == 0.0:
                self.cache_hits += 1
            total = sum(phases.values())
            self.sim.mark("startup", service=self.name, startup_s=total, **{f"{k}_s": v for k, v in phases.items()})
            member.state = READY
            self.runtime.set_ready(member.instance, True)
            self.changed()
        except simpy.Interrupt:
            member.process = None

    # --- stopping -------------------------------------------------------------------------------

    def stop(self, member: Member) -> None:
        """Take an instance away: cancel its start-up, or drain it and then remove it."""
        if member.state in (STOPPING, STOPPED):
            return
        if member.process is not None and member.process.is_alive:
            member.process.interrupt()
            member.process = None
        if member.state == READY:
            member.state = STOPPING
            self.runtime.set_ready(member.instance, False)
            self.changed()
            self.env.process(self._drain(member))
        else:
            self._remove(member)

    def _drain(self, member: Member) -> Generator:
        instance = member.instance
        while instance.in_service or instance.waiting:
            yield self.env.timeout(0.1)
        self._remove(member)

    def _remove(self, member: Member) -> None:
        member.state = STOPPED
        member.billed_to = self.env.now
        if member.instance in self.runtime.instances:
            self.runtime.remove_instance(member.instance)
        if self.hosts is not None:
            self.hosts.release(member)
        self.changed()

    # --- failure and repair -----------------------------------------------------------------------

    def crash(self, member: Member, down_s: float | None, detection_s: float, recovery: str) -> None:
        """The instance dies now; after ``detection_s`` it is restarted in place or replaced.

        ``down_s`` (a drawn time to repair) replaces detection + restart when given.
        """
        if member.state != READY:
            return
        lost = member.instance.crash()
        member.state = FAILED
        self.sim.mark("crash", service=self.name, instance=member.instance.index, lost=lost)
        self.changed()
        self.env.process(self._repair(member, down_s, detection_s, recovery))

    def _repair(self, member: Member, down_s: float | None, detection_s: float, recovery: str) -> Generator:
        if down_s is not None:
            yield self.env.timeout(down_s)
        else:
            yield self.env.timeout(detection_s)
            if member.state != FAILED:
                return  # stopped (scaled down, rolled out) or lost with its host while undetected
            if recovery == "replace":
                self._remove(member)
                self.launch(member.version)
                return
            member.state = STARTING
            phases = self.startup.sample_restart() if self.startup else dict.fromkeys(PHASES, 0.0)
            yield self.env.timeout(sum(phases.values()))
        if self.env.now < self.down_until:
            yield self.env.timeout(self.down_until - self.env.now)
        if member.state in (FAILED, STARTING):
            member.state = READY
            member.instance.restart()
            self.sim.mark("restart", service=self.name, instance=member.instance.index)
            self.changed()

    def lose(self, member: Member) -> None:
        """The instance's host is gone: it fails and is replaced elsewhere (a full start-up)."""
        if member.state == READY:
            member.instance.crash()
        elif member.process is not None and member.process.is_alive:
            member.process.interrupt()
        if member.state in ACTIVE:
            self.sim.mark("crash", service=self.name, instance=member.instance.index, lost=0)
            self._remove(member)
            self.launch(member.version)

    # --- bookkeeping ------------------------------------------------------------------------------

    def changed(self) -> None:
        """The ready count may have changed: integrate availability up to now."""
        self.settle(self.env.now)
        self._ready = len(self.runtime.ready)
        for hook in self.on_change:
            hook(self)

    def settle(self, now: float) -> None:
        start = max(self._t, self.sim.scenario.warmup_s)
        if now > start:
            if self._ready > 0:
                self.up_s += now - start
            self.ready_area += self._ready * (now - start)
        self._t = max(self._t, now)

    def startup_summary(self) -> dict[str, object]:
        """The ``extras.platform.<service>`` block."""
        expected = self.platform.expected_startup_s
        n = len(self.startups)
        if n:
            breakdown = {phase: sum(s[phase] for s in self.startups) / n for phase in PHASES}
            mean = sum(breakdown.values())
        else:
            breakdown, mean = dict(expected), None
        return {
            "kind": self.platform.kind,
            "startup_profile": self.platform.profile.source if self.platform.profile else "",  # measured phases' source
            "startup_mean_s": mean,
            "startup_expected_s": sum(expected.values()),
            "startup_breakdown_s": breakdown,
            "startups": n,
            "image_cache_hits": self.cache_hits,
            "crashes": sum(m.instance.crashes for m in self.members),
            "peak_instances": None,  # filled in by the runtime from the time series
        }
