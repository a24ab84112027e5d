"""A Kubernetes-HPA-like autoscaler, plus a scheduled scaler, for one service.

Every ``sync_period`` it measures the metric over the last period on the *ready* instances (an
instance still starting has no metrics), and computes the desired count as the HPA does:

- ``cpu``: ``ceil(busy cores / (target * cores per instance))`` = ``ceil(ready * utilisation / target)``;
- ``requests_per_instance``: ``ceil(arrivals per second / target)``;
- ``none``: keep the current count within the (scheduled) min and max.

No change while the ratio metric/target is within ``tolerance`` of 1. Recommendations are
stabilised (scale up to the lowest recommendation of the last ``scale_up_stabilization``, down to
the highest of the last ``scale_down_stabilization``), rate-limited (up by at most
``max(scale_up_pods, scale_up_percent)`` per ``scale_up_period``, down by ``scale_down_percent``
per ``scale_down_period``) and clamped to min/max. New instances pay their full start-up before
they serve, which is what makes a slow platform miss its SLO during a spike. While a rollout runs
the autoscaler waits (a Deployment and an HPA would otherwise fight over the replica count).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator

from .lifecycle import PROVISIONING, READY, STARTING, Fleet
from ..scenario.platform import Autoscaling


class Autoscaler:
    """The controller of one fleet."""

    def __init__(self, sim, fleet: Fleet, spec: Autoscaling):
        self.sim = sim
        self.env = sim.env
        self.fleet = fleet
        self.spec = spec
        self.min = spec.min_instances
        self.max = spec.max_instances
        self._recommendations: deque[tuple[float, int]] = deque()
        self._changes: deque[tuple[float, int]] = deque()  # (time, +n / -n)
        self._busy: dict = {}
        self._arrivals = self._count_arrivals()
        self.decisions = 0
        for step in spec.schedule:
            sim.at(step.at_s, lambda s=step: self._scheduled(s))
        self.env.process(self._run())

    # --- measuring --------------------------------------------------------------------------------

    def _count_arrivals(self) -> int:
        """Requests that reached the service so far: departed + still inside + turned away."""
        total = self.fleet.runtime.no_backend
        for inst in self.fleet.runtime.all_instances():
            total += inst.completed + inst.failed + inst.rejected + inst.in_service + len(inst.waiting)
        return total

    def _utilisation(self, period_s: float) -> float | None:
        ready = [m.instance for m in self.fleet.members if m.state == READY]
        if not ready:
            return None
        now = self.env.now
        busy = 0.0
        for inst in ready:
            inst.settle(now)
            last = self._busy.get(inst, 0.0)
            busy += inst.busy_area - last
            self._busy[inst] = inst.busy_area
        return busy / (period_s * sum(inst.cores for inst in ready))

    def desired(self, period_s: float) -> int:
        """The metric's recommendation for this period (before stabilisation and limits)."""
        current = self.fleet.replicas
        spec = self.spec
        arrivals = self._count_arrivals()
        rate = max(0, arrivals - self._arrivals) / period_s
        self._arrivals = arrivals
        utilisation = self._utilisation(period_s)
        if spec.metric == "none":
            return current
        if spec.metric == "cpu":
            if utilisation is None:
                return current
            ready = sum(1 for m in self.fleet.members if m.state == READY)
            ratio = utilisation / spec.target
            raw = math.ceil(ready * ratio - 1e-9)
        else:
            ready = max(1, sum(1 for m in self.fleet.members if m.state == READY))
            ratio = rate / ready / spec.target
            raw = math.ceil(rate / spec.target - 1e-9)
        if abs(ratio - 1.0) <= spec.tolerance:
            return current
        return raw

    # --- deciding ---------------------------------------------------------------------------------

    def _run(self) -> Generator:
        period = self.spec.sync_period_s
        while True:
            yield self.env.timeout(period)
            raw = self.desired(period)
            if not self.fleet.controlled:
                self.reconcile(raw)

    def reconcile(self, raw: int) -> None:
        now = self.env.now
        spec = self.spec
        current = self.fleet.replicas
        self._recommendations.append((now, raw))
        horizon = max(spec.scale_up_stabilization_s, spec.scale_down_stabilization_s)
        while self._recommendations and self._recommendations[0][0] < now - horizon - 1e-9:
            self._recommendations.popleft()
        up = min(r for t, r in self._recommendations if t >= now - spec.scale_up_stabilization_s - 1e-9)
        down = max(r for t, r in self._recommendations if t >= now - spec.scale_down_stabilization_s - 1e-9)
        desired = current
        if current < up:
            desired = up
        elif current > down:
            desired = down
        desired = self._rate_limited(current, desired, now)
        desired = max(self.min, min(self.max, desired))
        self._scale(current, desired, now)

    def _rate_limited(self, current: int, desired: int, now: float) -> int:
        spec = self.spec
        if desired > current:
            added = sum(n for t, n in self._changes if n > 0 and t > now - spec.scale_up_period_s)
            base = current - added
            limit = max(base + spec.scale_up_pods, math.ceil(base * (1 + spec.scale_up_percent / 100)))
            return min(desired, max(current, limit))
        if desired < current:
            removed = -sum(n for t, n in self._changes if n < 0 and t > now - spec.scale_down_period_s)
            base = current + removed
            limit = math.ceil(base * (1 - spec.scale_down_percent / 100))
            return max(desired, min(current, limit))
        return desired

    def _scale(self, current: int, desired: int, now: float) -> None:
        if desired == current:
            return
        self.decisions += 1
        self._changes.append((now, desired - current))
        while self._changes and self._changes[0][0] < now - max(self.spec.scale_up_period_s, self.spec.scale_down_period_s):
            self._changes.popleft()
        fleet = self.fleet
        if desired > current:
            for _ in range(desired - current):
                fleet.launch()
            self.sim.mark("scale_up", service=fleet.name, from_instances=current, to_instances=desired)
        else:
            # like a ReplicaSet: instances not yet serving go first, then the newest
            order = {PROVISIONING: 0, STARTING: 1}
            victims = sorted(fleet.active(), key=lambda m: (order.get(m.state, 2), -m.billed_from))
            for member in victims[: current - desired]:
                fleet.stop(member)
            self.sim.mark("scale_down", service=fleet.name, from_instances=current, to_instances=desired)

    def _scheduled(self, step) -> None:
        self.min = step.min_instances
        if step.max_instances is not None:
            self.max = step.max_instances
        self.max = max(self.max, self.min)
        if not self.fleet.controlled:
            current = self.fleet.replicas
            self._scale(current, max(self.min, min(self.max, current)), self.env.now)
