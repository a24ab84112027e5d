"""A service at run time: its instances and the load balancer in front of them.

Load balancing picks among the instances that are ready (an instance still starting, or failed,
gets no traffic): ``round_robin`` cycles through them, ``least_connections`` picks the one with
the fewest requests in it (slots in use plus queue; ties to the lowest index), ``random`` picks
uniformly with its own random stream. A service with no ready instance rejects the request, as
a load balancer with an empty backend pool answers 503.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .station import Instance, Visit


class ServiceRuntime:
    """The instances of one service and how requests are spread over them."""

    def __init__(self, env, name: str, spec, random_index: Callable[[int], int]):
        self.env = env
        self.name = name
        self.spec = spec  #: The validated :class:`~simulator.scenario.model.Service`.
        self.cores = spec.cores
        self.concurrency = spec.concurrency or spec.cores
        self.queue_capacity = spec.queue
        self.policy = spec.load_balancing
        self._random_index = random_index
        self.instances: list[Instance] = []
        self.ready: list[Instance] = []
        self._next = 0
        self.no_backend = 0  #: Requests rejected because no instance was ready.
        self.retired: list[Instance] = []  #: Instances removed during the run (their counts still count).
        for _ in range(spec.instances):
            self.add_instance(ready=True)
        self.arrive = self._choose_arrive()

    # --- membership --------------------------------------------------------------------------

    def add_instance(self, ready: bool = True, factory: Callable[..., Instance] | None = None) -> Instance:
        """Create an instance (platform models start it not ready and mark it ready later).

        ``factory`` replaces :class:`Instance` (same arguments), e.g. for a new version's instances.
        """
        instance = (factory or Instance)(self.env, self, len(self.instances) + len(self.retired), self.cores, self.concurrency, self.queue_capacity)
        instance.ready = ready
        if ready:
            instance.go_up()
        self.instances.append(instance)
        if ready:
            self.ready.append(instance)
        return instance

    def set_ready(self, instance: Instance, ready: bool) -> None:
        """Put an instance into or out of the load balancer's pool."""
        instance.ready = ready
        if ready:
            instance.go_up()
        if ready and instance not in self.ready:
            self.ready.append(instance)
        elif not ready and instance in self.ready:
            self.ready.remove(instance)
        self.arrive = self._choose_arrive()

    def remove_instance(self, instance: Instance) -> None:
        """Take an instance away for good (its statistics are kept)."""
        self.set_ready(instance, False)
        instance.go_down()
        self.instances.remove(instance)
        self.retired.append(instance)

    # --- load balancing ----------------------------------------------------------------------

    def _choose_arrive(self) -> Callable[[Visit], None]:
        if len(self.ready) == 1:
            return self.ready[0].admit  # the common case: no balancing to do
        if not self.ready:
            return self._reject
        return {"round_robin": self._round_robin, "least_connections": self._least_connections, "random": self._random}[self.policy]

    def _round_robin(self, visit: Visit) -> None:
        ready = self.ready
        i = self._next % len(ready)
        self._next = i + 1
        ready[i].admit(visit)

    def _least_connections(self, visit: Visit) -> None:
        best = min(self.ready, key=lambda inst: (inst.in_service + len(inst.waiting), inst.index))
        best.admit(visit)

    def _random(self, visit: Visit) -> None:
        self.ready[self._random_index(len(self.ready))].admit(visit)

    def _reject(self, visit: Visit) -> None:
        self.no_backend += 1
        visit.ok = False
        visit.k(visit.request, False)

    def on_arrive(self, visit: Any) -> None:
        """SimPy callback: a visit whose request hop has elapsed reaches the balancer."""
        self.arrive(visit)

    # --- statistics --------------------------------------------------------------------------

    def all_instances(self) -> list[Instance]:
        return self.instances + self.retired
