"""A version of a service's code: what its instances do differently from the base version.

The base version is plain :class:`~simulator.engine.station.Instance` objects, untouched. A version
with a different CPU demand or an error rate runs on :class:`VersionedInstance`, a subclass that
swaps each visit's operation for the version's own plan and fails a share of requests at the end.
Only instances of such a version pay for the extra step, so the hot path of every other instance
(and every scenario without versions) is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from ..distributions import uniforms
from ..engine.callgraph import OperationPlan
from ..engine.station import Instance, Visit
from ..scenario.platform import Version as VersionSpec


class Version:
    """A named version: ``plans`` replace operations, ``error_rate`` fails requests, ``fails_readiness``
    keeps its instances out of the load balancer forever."""

    def __init__(
        self,
        name: str,
        plans: dict | None = None,
        error_rate: float = 0.0,
        fails_readiness: bool = False,
        uniform: Callable[[], float] | None = None,
        versioned: bool = False,
    ):
        self.name = name
        self.versioned = versioned  #: Use :class:`VersionedInstance` even with nothing changed yet (error bursts).
        self.plans: dict[OperationPlan, OperationPlan] = plans or {}
        self.error_rate = error_rate
        self.fails_readiness = fails_readiness
        self.uniform = uniform

    @property
    def plain(self) -> bool:
        """Whether its instances behave like the base version's (no subclass needed)."""
        return not self.versioned and not self.plans and self.error_rate == 0.0

    def factory(self) -> Callable[..., Instance] | None:
        """The instance class for :meth:`ServiceRuntime.add_instance` (``None``: plain instances)."""
        if self.plain:
            return None
        version = self

        def make(*args) -> VersionedInstance:
            instance = VersionedInstance(*args)
            instance.plans = version.plans
            instance.error_rate = version.error_rate
            instance.uniform = version.uniform
            return instance

        return make

    @classmethod
    def from_spec(cls, name: str, spec: VersionSpec, sim, service: str) -> "Version":
        plans: dict[OperationPlan, OperationPlan] = {}
        if spec.service_time is not None:
            for (sname, oname), plan in sim.operations.items():
                if sname != service:
                    continue
                logical = sim.scenario.services[sname].operations[oname].stream or f"{sname}.{oname}"
                sampler = sim.streams.per_request(f"service:{logical}:{name}", spec.service_time)
                new = OperationPlan(sname, oname, sampler, spec.service_time.mean)
                new.calls = plan.calls
                plans[plan] = new
        return cls(name, plans, spec.error_rate, spec.fails_readiness, uniforms(sim.streams(f"errors:{service}:{name}")))


class VersionedInstance(Instance):
    """An instance of a non-base version: its own operation plans and error rate."""

    __slots__ = ("plans", "error_rate", "uniform")

    def admit(self, visit: Visit) -> None:
        plan = self.plans.get(visit.operation)
        if plan is not None:
            visit.operation = plan
        Instance.admit(self, visit)

    def finish(self, visit: Visit) -> None:
        if visit.ok and self.error_rate > 0.0 and self.uniform() < self.error_rate:
            visit.ok = False
        Instance.finish(self, visit)
