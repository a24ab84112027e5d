"""Where instances run: VMs, containers, microVMs and plain processes, and what that costs in time and money.

A platform turns an instance into a lifecycle (requested -> provisioning -> starting -> ready ->
(failed) -> stopped) whose start-up is the sum of measured or cited phases. On top of it sit the
controllers that make start-up time matter: an HPA-like autoscaler, rolling deployments, failure
injection with restart or replacement, and host packing with cluster growth. Cost, availability
and time-to-SLO-recovery are reported in a replication's ``extras``.

Modules, one idea each: :mod:`.spec` (the scenario fields), :mod:`.defaults` (cited defaults per
kind), :mod:`.startup` (phases and measured profiles), :mod:`.hosts` (packing and cluster growth),
:mod:`.lifecycle` (instances of one service through their states), :mod:`.versions` (instances of a
new version), :mod:`.autoscaler`, :mod:`.rollout`, :mod:`.failures`, :mod:`.resilience` (circuit
breaker), :mod:`.cost`, :mod:`.recovery` (time to SLO recovery) and :mod:`.runtime` (attaching it
all to a simulation).

This package is imported by the engine only for scenarios that use these fields, so a plain
scenario pays nothing for it. Keep this file free of imports: the scenario model imports
:mod:`.spec`, and the engine imports the scenario model.
"""
