"""Tasks: one replication of one variant at one sweep point, the unit every executor runs.

A run is the list of its tasks in plan order (variants in the order the loader made them, points
outer and declared variants inner, then replications). A task carries its complete scenario, so a
worker needs nothing but the task, and a **fingerprint**: a hash of the resolved scenario, the
replication and the archsim version. A finished task's file is reused by ``--resume`` only if its
fingerprint matches, so a resumed run never mixes results of different scenarios or versions.

Results are plain data; each one makes a round trip through JSON (:func:`result_to_json` /
:func:`result_from_json`) before it is aggregated, whether it was computed now or read back from
disk, so a resumed run aggregates exactly the numbers an uninterrupted one does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..engine.experiment import run_replication
from ..engine.metrics import ReplicationResult
from ..platforms import extensions_for
from ..scenario.load import Variant
from ..scenario.model import Scenario


@dataclass(frozen=True)
class Task:
    """Replication ``replication`` of the variant named ``variant``."""

    variant: str
    replication: int
    scenario: Scenario
    fingerprint: str

    @property
    def key(self) -> str:
        """``<variant>/<replication>``: unique within a run."""
        return f"{self.variant}/{self.replication}"


def fingerprint(scenario: Scenario, replication: int) -> str:
    """SHA-256 of the resolved scenario, the replication and the archsim version."""
    from .. import __version__

    resolved = scenario.model_dump(mode="json", by_alias=True, exclude={"variants", "sweep"})
    text = json.dumps({"scenario": resolved, "replication": replication, "archsim": __version__}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan(variants: list[Variant]) -> list[Task]:
    """Every task of ``variants``: each variant's replications, variants in order."""
    tasks = []
    for variant in variants:
        scenario = variant.scenario
        for replication in range(scenario.replications):
            tasks.append(Task(variant.name, replication, scenario, fingerprint(scenario, replication)))
    return tasks


def expected_work(task: Task) -> float:
    """A task's expected simulation work, in offered requests (or user-seconds, for a closed
    workload): its load times its duration. Only the order matters: the queue starts the biggest
    tasks first, so a few big ones do not run alone at the end while the other workers idle."""
    workload = task.scenario.workload
    if getattr(workload, "users", None) is not None:
        load = float(workload.users)
    elif workload.rate_per_s is not None:
        load = workload.rate_per_s
    else:  # a profile: its busiest rate
        load = max(point.rate_per_s for point in workload.profile)
    spikes = getattr(workload, "spikes", [])
    peak = max((spike.factor for spike in spikes), default=1.0)
    return load * max(peak, 1.0) * task.scenario.duration_s


def run_task(task: Task) -> ReplicationResult:
    """Run one task (in whatever process or machine the executor chose), with the extensions its
    scenario needs (chosen here, in the worker, so nothing but the task is sent)."""
    return run_replication(task.scenario, task.replication, extensions=extensions_for(task.scenario))


def result_to_json(result: ReplicationResult) -> dict[str, Any]:
    """The result as JSON-ready data (NaN and infinities kept: Python's JSON reads them back)."""
    return json.loads(json.dumps(dataclasses.asdict(result)))


def result_from_json(data: dict[str, Any]) -> ReplicationResult:
    """The inverse of :func:`result_to_json`."""
    return ReplicationResult(**data)
