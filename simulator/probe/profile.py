"""Repeated start-ups as medians and spreads, and as the start-up profiles the platform models read.

A profile (docs/platforms.md) is ``{"kind": ..., "source": ..., "phases": {phase: [seconds, ...]}}``
with the model's phases ``image_pull``, ``runtime``, ``app_init``, ``readiness``: a phase given
there is resampled from its values, a phase left out keeps the scenario's distribution. The probe
writes ``runtime`` = create + start, ``app_init``, ``readiness`` and, for a cold container, the
measured ``image_pull``; a warm container's profile leaves ``image_pull`` out, so the scenario's
image size, bandwidth and cache-hit ratio still decide pulls. ``readiness`` is what this probe's
5 ms polling saw: a scenario that wants Kubernetes' 10 s probe period instead drops that phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .phases import StartUp

PROFILE_PHASES = ("image_pull", "runtime", "app_init", "readiness")  #: What a profile may carry, in model order.
SHOWN = ("image_pull", "create", "start", "app_init", "readiness", "runtime", "total")


@dataclass
class Series:
    """The start-ups of one platform variant (``process``, ``container``, ``container-cold``, ``microvm``)."""

    name: str
    kind: str  #: The platform model kind it measures (``process``, ``container``, ``microvm``).
    description: str
    runs: list[StartUp] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def values(self, phase: str) -> list[float]:
        return [run.phases_s()[phase] for run in self.runs if phase in run.phases_s()]

    def summary(self) -> dict[str, dict[str, float]]:
        """Per phase: median, p10, p90, min, max (seconds) and the count."""
        out = {}
        for phase in SHOWN:
            values = self.values(phase)
            if values:
                v = np.asarray(values)
                out[phase] = {"median_s": float(np.median(v)), "p10_s": float(np.percentile(v, 10)),
                              "p90_s": float(np.percentile(v, 90)), "min_s": float(v.min()), "max_s": float(v.max()),
                              "n": len(values)}
        return out

    def notes(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for run in self.runs:
            for key, value in run.notes.items():
                merged.setdefault(key, value)
        return merged

    def profile(self, source: str) -> dict:
        """The start-up profile of these runs, in the format ``platform: {profile: FILE}`` reads."""
        phases = {phase: [round(x, 6) for x in self.values(phase)] for phase in PROFILE_PHASES}
        return {"kind": self.kind, "source": source, "phases": {k: v for k, v in phases.items() if v}}
