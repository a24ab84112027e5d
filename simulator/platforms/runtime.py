"""Attach platforms and their controllers to a built simulation, and report what they measured.

:func:`attach` is the extension factory (:mod:`simulator.engine.extension`) that
:func:`simulator.platforms.extensions_for` returns for scenarios that use any platform field. It builds a :class:`~.lifecycle.Fleet` per service (services without a
``platform`` get an unbilled one with no start-up, so failures can still hit them), the host pool,
autoscalers, rollouts and the failure injector, then adds time-series columns (instances by
state) and the result blocks in ``extras``: ``platform``, ``cost``, ``availability``, ``recovery``,
``rollout``, ``resilience`` and ``host_cpu`` (with ``hosts: {cpu: shared}``).
"""

from __future__ import annotations

from ..distributions import uniforms
from ..engine.extension import Extension
from .autoscaler import Autoscaler
from .cost import cost_summary
from ..scenario.platform_defaults import host_boot, resolve
from .failures import FailureInjector
from .host_cpu import HostCpu
from .hosts import HostPool
from .lifecycle import FAILED, PROVISIONING, STARTING, STOPPING, Fleet
from .recovery import recovery_summary
from .rollout import Rollout
from .versions import Version


class Platforms(Extension):
    """Everything platform-related in one simulation."""

    def __init__(self, sim):
        self.sim = sim
        scenario = sim.scenario
        self.hosts = HostPool(sim, scenario.hosts, host_boot(scenario.hosts).sampler(sim.streams("hosts:boot"))) if scenario.hosts else None
        error_targets = {f.service for f in scenario.failures if f.kind == "errors"}
        self.fleets: dict[str, Fleet] = {}
        for name, runtime in sim.services.items():
            spec = scenario.services[name]
            platform = resolve(spec.platform, scenario.platforms) if spec.platform is not None else None
            fleet = Fleet(sim, runtime, platform, self.hosts if platform is not None else None, explicit=platform is not None)
            if name in error_targets:
                fleet.base = Version("v1", uniform=uniforms(sim.streams(f"errors:{name}:v1")), versioned=True)
            fleet.adopt_initial(fleet.base)
            self.fleets[name] = fleet
        self.host_cpu = HostCpu(sim, scenario.hosts, self.hosts, self.fleets) if scenario.hosts and scenario.hosts.cpu == "shared" else None
        self.autoscalers = {n: Autoscaler(sim, self.fleets[n], s.autoscaling) for n, s in scenario.services.items() if s.autoscaling}
        self.rollouts = {n: Rollout(sim, self.fleets[n], s.deployment) for n, s in scenario.services.items() if s.deployment}
        self.failures = FailureInjector(sim, self.fleets, self.hosts, scenario.failures) if scenario.failures else None
        self._down = 0
        self._system_t = 0.0
        self.system_up_s = 0.0
        for fleet in self.fleets.values():
            fleet.on_change.append(self._system_changed)

    # --- availability of the whole system -------------------------------------------------------

    def _system_changed(self, _fleet) -> None:
        now = self.sim.env.now
        start = max(self._system_t, self.sim.scenario.warmup_s)
        if now > start and self._down == 0:
            self.system_up_s += now - start
        self._system_t = max(self._system_t, now)
        self._down = sum(1 for f in self.fleets.values() if f.ready == 0)

    # --- extension hooks ---------------------------------------------------------------------------

    def tick(self, row: dict, dt: float) -> None:
        for name, fleet in self.fleets.items():
            counts = {PROVISIONING: 0, STARTING: 0, FAILED: 0, STOPPING: 0}
            for member in fleet.members:
                if member.state in counts:
                    counts[member.state] += 1
            for state, n in counts.items():
                row[f"{state}.{name}"] = n
        if self.hosts is not None:
            row["hosts"] = len(self.hosts.alive())

    def result(self, result) -> None:
        sim, scenario = self.sim, self.sim.scenario
        end = sim.env.now
        measured = end - scenario.warmup_s
        extras = result.extras
        platform: dict = {}
        for name, fleet in self.fleets.items():
            if fleet.explicit:
                block = fleet.startup_summary()
                block["peak_instances"] = max((row.get(f"instances.{name}", 0) for row in result.timeseries), default=0)
                platform[name] = block
        if platform:
            extras["platform"] = platform
        billed = [f for f in self.fleets.values() if f.explicit]
        if billed:
            extras["cost"] = cost_summary(billed, self.hosts, scenario.warmup_s, end, result.overall["successes"], self.sim.recorder.since_warmup)
        availability: dict = {}
        for fleet in self.fleets.values():
            fleet.settle(end)
        self._system_changed(None)
        availability["overall"] = self.system_up_s / measured if measured > 0 else None
        for name, fleet in self.fleets.items():
            availability[name] = fleet.up_s / measured if measured > 0 else None
        extras["availability"] = availability
        if scenario.slo is not None:
            extras["recovery"] = recovery_summary(result.timeseries, scenario)
        for name, rollout in self.rollouts.items():
            block = rollout.summary(result.timeseries)
            if block:
                if len(self.rollouts) == 1:
                    extras["rollout"] = block
                else:
                    extras.setdefault("rollout", {})[name] = block
        resilience: dict = {}
        for where, step in sim.compiler.resilient:
            resilience[where] = {"attempts": step.attempts, "failures": step.failures}
        for where, step in sim.compiler.breakers:
            resilience.setdefault(where, {}).update({"breaker_rejections": step.rejected, "breaker_opens": step.opened})
        if resilience:
            extras["resilience"] = resilience
        if self.host_cpu is not None:
            extras["host_cpu"] = self.host_cpu.summary(end)
        if self.autoscalers:
            extras["autoscaling"] = {name: {"decisions": a.decisions} for name, a in self.autoscalers.items()}


def attach(sim) -> Platforms:
    """Build the platform model on ``sim``: the extension factory (build hook) of this package."""
    sim.platforms = Platforms(sim)
    return sim.platforms
