"""A rolling update like a Kubernetes Deployment (RollingUpdate strategy), with pause and rollback.

With ``R`` replicas at the start, the controller looks every ``check_period`` and:

- starts new-version instances while old + new < ``R + max_surge`` (and new < ``R``);
- stops old instances (not-ready ones first) only while the ready count stays at or above
  ``R - max_unavailable``;
- is done when ``R`` new instances are ready and no old one is left.

A new version that never passes readiness stalls the rollout (as in Kubernetes); with
``rollback_on.progress_deadline`` it is rolled back after that long without a new instance
becoming ready, and with ``rollback_on.error_rate`` as soon as the new instances' error ratio
exceeds it. A rollback is the same procedure towards the old version. The result reports the
rollout's duration, the errors clients saw during it and the fewest ready instances.
"""

from __future__ import annotations

from collections.abc import Generator

from .lifecycle import READY, Fleet
from ..scenario.platform import Deployment
from .versions import Version

MIN_REQUESTS_FOR_ERROR_RATE = 20  #: New-version requests seen before its error ratio is trusted.


class Rollout:
    """The rollout of one service's new version."""

    def __init__(self, sim, fleet: Fleet, spec: Deployment):
        self.sim = sim
        self.env = sim.env
        self.fleet = fleet
        self.spec = spec
        self.new = Version.from_spec("v2", spec.new_version, sim, fleet.name)
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.rolled_back = False
        self.min_ready: int | None = None
        self.replicas = 0
        fleet.on_change.append(self._watch)
        self.env.process(self._run())

    def _watch(self, fleet: Fleet) -> None:
        if self.started_at is not None and self.ended_at is None:
            self.min_ready = min(self.min_ready, fleet.ready) if self.min_ready is not None else fleet.ready

    def _paused(self, now: float) -> bool:
        return any(p.at_s <= now < p.at_s + p.duration_s for p in self.spec.pauses)

    def _run(self) -> Generator:
        yield self.env.timeout(self.spec.at_s)
        fleet = self.fleet
        fleet.controlled = True
        self.started_at = self.env.now
        self.replicas = fleet.replicas
        self.min_ready = fleet.ready
        self.sim.mark("rollout_start", service=fleet.name, replicas=self.replicas, version=self.new.name)
        old = fleet.base
        ok = yield from self._roll(self.new, old, watch=True)
        if not ok:
            self.rolled_back = True
            self.sim.mark("rollback", service=fleet.name, version=old.name)
            yield from self._roll(old, self.new, watch=False)
        self.ended_at = self.env.now
        fleet.controlled = False
        self.sim.mark("rollout_end", service=fleet.name, rolled_back=self.rolled_back, duration_s=self.ended_at - self.started_at)

    def _roll(self, target: Version, other: Version, watch: bool) -> Generator:
        """Replace every instance not of ``target``; False if the rollout should be undone."""
        fleet, spec, replicas = self.fleet, self.spec, self.replicas
        rollback = spec.rollback_on if watch else None
        last_progress, best_ready = self.env.now, 0
        while True:
            if not self._paused(self.env.now):
                active = fleet.active()
                new = [m for m in active if m.version is target]
                old = [m for m in active if m.version is not target]
                new_ready = sum(1 for m in new if m.state == READY)
                if new_ready >= replicas and not old:
                    return True
                for _ in range(min(replicas + spec.max_surge - len(active), replicas - len(new))):
                    fleet.launch(target)
                removable = fleet.ready - (replicas - spec.max_unavailable)
                for member in sorted(old, key=lambda m: m.state == READY):
                    if member.state != READY:
                        fleet.stop(member)
                    elif removable > 0:
                        fleet.stop(member)
                        removable -= 1
                if new_ready > best_ready:
                    best_ready, last_progress = new_ready, self.env.now
                if rollback is not None:
                    if rollback.progress_deadline_s is not None and self.env.now - last_progress > rollback.progress_deadline_s:
                        return False
                    if rollback.error_rate is not None and self._error_ratio(target) > rollback.error_rate:
                        return False
            else:
                last_progress = self.env.now  # a paused rollout is not stuck
            yield self.env.timeout(spec.check_period_s)

    def _error_ratio(self, version: Version) -> float:
        done = failed = 0
        for member in self.fleet.members:
            if member.version is version:
                done += member.instance.completed + member.instance.failed
                failed += member.instance.failed
        return failed / done if done >= MIN_REQUESTS_FOR_ERROR_RATE else 0.0

    def summary(self, rows: list[dict]) -> dict[str, object]:
        """The ``extras.rollout`` block: duration, client errors during the rollout, fewest ready."""
        if self.started_at is None:
            return {}
        end = self.ended_at if self.ended_at is not None else self.env.now
        errors = 0.0
        previous = 0.0
        for row in rows:
            t = row["time_s"]
            overlap = min(t, end) - max(previous, self.started_at)
            if overlap > 0 and t > previous:
                errors += row["errors_per_s"] * overlap
            previous = t
        return {
            "duration_s": end - self.started_at,
            "completed": 1 if self.ended_at is not None else 0,
            "rolled_back": 1 if self.rolled_back else 0,
            "errors": errors,
            "min_ready": self.min_ready,
            "replicas": self.replicas,
            "capacity_dip": self.replicas - (self.min_ready or 0),
        }
