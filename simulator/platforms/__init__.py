"""Where instances run: VMs, containers, microVMs and plain processes, and what that costs in time and money.

A platform turns an instance into a lifecycle (requested -> provisioning -> starting -> ready ->
(failed) -> stopped) whose start-up is the sum of measured or cited phases. On top of it sit the
controllers that make start-up time matter: an HPA-like autoscaler, rolling deployments, failure
injection with restart or replacement, and host packing with cluster growth. Cost, availability
and time-to-SLO-recovery are reported in a replication's ``extras``.

The scenario fields live in :mod:`simulator.scenario.platform` and their cited defaults per kind
in :mod:`simulator.scenario.platform_defaults` (the scenario package validates them without
loading this one). Modules here, one idea each: :mod:`.startup` (phases and measured profiles), :mod:`.hosts` (packing and cluster growth),
:mod:`.lifecycle` (instances of one service through their states), :mod:`.versions` (instances of a
new version), :mod:`.autoscaler`, :mod:`.rollout`, :mod:`.failures`, :mod:`.cost`, :mod:`.recovery` (time to SLO recovery) and :mod:`.runtime` (attaching it
all to a simulation).

It attaches to a simulation through the engine's one extension seam (:mod:`simulator.engine.extension`):
whoever runs a replication passes :func:`extensions_for` of its scenario. The engine never imports
this package. Keep this file free of run-time imports at module level: a plain scenario should load nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine.extension import ExtensionFactory
    from ..scenario.model import Scenario


def extensions_for(scenario: Scenario) -> list[ExtensionFactory]:
    """The extension factories ``scenario`` needs: the platform model if it uses any platform
    field (platform, hosts, autoscaling, deployment, failures, slo, circuit breakers), else none.

    Module-level and picklable, so sweep tasks call it in worker processes and on Dask.
    """
    if not scenario.uses_platforms:
        return []
    from .runtime import attach

    return [attach]
