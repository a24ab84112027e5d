"""Failure injection: instance crashes, whole-service outages, host losses and error bursts.

- ``crash`` at a time hits one ready instance; with ``mtbf`` every instance fails after an
  exponential time (memoryless, so a repaired instance draws afresh). A crashed instance fails the
  requests inside it; after ``detection`` (health checks) it is restarted in place or replaced, or,
  with ``mttr``, it is back after a drawn time to repair. With exponential MTBF and MTTR a single
  instance is up MTBF / (MTBF + MTTR) of the time, which the tests check.
- ``outage``: every instance of the service is down for ``duration`` (a zone or dependency outage),
  then restarts in place.
- ``host``: a host dies; its instances are replaced on other hosts (full start-ups, maybe a new host).
- ``errors``: for ``duration`` the service answers ``error_rate`` of its requests with an error.
"""

from __future__ import annotations

from collections.abc import Generator

from ..scenario.platform_defaults import DETECTION
from .lifecycle import READY, Fleet
from ..scenario.platform import Failure
from .versions import VersionedInstance


class FailureInjector:
    """Runs the scenario's ``failures`` list."""

    def __init__(self, sim, fleets: dict[str, Fleet], hosts, failures: list[Failure]):
        self.sim = sim
        self.env = sim.env
        self.fleets = fleets
        self.hosts = hosts
        for i, failure in enumerate(failures):
            detection = (failure.detection or DETECTION).sampler(sim.streams(f"failure:{i}:detection"))
            mttr = failure.mttr.sampler(sim.streams(f"failure:{i}:mttr")) if failure.mttr is not None else None
            if failure.kind == "crash" and failure.mtbf_s is not None:
                self.env.process(self._random_crashes(i, failure, detection, mttr))
            elif failure.kind == "crash":
                sim.at(failure.at_s, lambda f=failure, d=detection, r=mttr: self._crash_one(f, d, r))
            elif failure.kind == "outage":
                sim.at(failure.at_s, lambda f=failure: self._outage(f))
            elif failure.kind == "host":
                sim.at(failure.at_s, lambda f=failure: self._host(f))
            else:
                sim.at(failure.at_s, lambda f=failure: self._errors(f))

    def _crash_one(self, failure: Failure, detection, mttr) -> None:
        fleet = self.fleets[failure.service]
        ready = [m for m in fleet.members if m.state == READY]
        if ready:
            member = ready[min(failure.instance, len(ready) - 1)]
            fleet.crash(member, mttr() if mttr else None, detection(), failure.recovery)

    def _random_crashes(self, i: int, failure: Failure, detection, mttr) -> Generator:
        """Each ready instance fails at rate 1/MTBF: the next crash among n comes after Exp(MTBF/n).

        When the ready count changes the wait is drawn again (exact, as the exponential is memoryless).
        """
        fleet = self.fleets[failure.service]
        rng = self.sim.streams(f"failure:{i}:mtbf")
        changed = [self.env.event()]

        def notice(_fleet) -> None:
            if not changed[0].triggered:
                changed[0].succeed()

        fleet.on_change.append(notice)
        while True:
            ready = [m for m in fleet.members if m.state == READY]
            wake = changed[0]
            if not ready:
                yield wake
            else:
                timer = self.env.timeout(rng.exponential(failure.mtbf_s / len(ready)))
                yield timer | wake
                if not timer.processed:  # the ready count changed first: draw again
                    changed[0] = self.env.event()
                    continue
                member = ready[int(rng.integers(len(ready)))]
                if member.state == READY:
                    fleet.crash(member, mttr() if mttr else None, detection(), failure.recovery)
            if changed[0].triggered:
                changed[0] = self.env.event()

    def _outage(self, failure: Failure) -> None:
        fleet = self.fleets[failure.service]
        self.sim.mark("outage_start", service=fleet.name, duration_s=failure.duration_s)
        fleet.down_until = self.env.now + failure.duration_s
        for member in [m for m in fleet.members if m.state == READY]:
            fleet.crash(member, failure.duration_s, 0.0, "restart")
        self.sim.at(self.env.now + failure.duration_s, lambda: self.sim.mark("outage_end", service=fleet.name))

    def _host(self, failure: Failure) -> None:
        members = self.hosts.fail(failure.host)
        self.sim.mark("host_failed", host=failure.host, instances=len(members))
        for member in members:
            for fleet in self.fleets.values():
                if member in fleet.members:
                    fleet.lose(member)

    def _errors(self, failure: Failure) -> None:
        fleet = self.fleets[failure.service]
        self.sim.mark("errors_start", service=fleet.name, error_rate=failure.error_rate)
        fleet.base.error_rate = failure.error_rate
        for inst in fleet.runtime.instances:
            if isinstance(inst, VersionedInstance):
                inst.error_rate = failure.error_rate

        def end() -> None:
            fleet.base.error_rate = 0.0
            for inst in fleet.runtime.instances:
                if isinstance(inst, VersionedInstance):
                    inst.error_rate = 0.0
            self.sim.mark("errors_end", service=fleet.name)

        self.sim.at(self.env.now + failure.duration_s, end)
