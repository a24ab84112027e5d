"""Start-up time as the sum of its phases, each drawn from its own distribution.

provisioning (capacity: VM scheduling and boot) + image pull (image / bandwidth, skipped on a node
cache hit) + runtime create/start + application init + readiness probe delay. Each phase has its
own random stream, so the phases are independent and the mean of the sum is the sum of the means
(:attr:`~.defaults.Platform.expected_startup_s`). A measured profile replaces the phases it has
samples for (resampled uniformly, like :class:`~simulator.distributions.Empirical`).

A restart in place (after a crash) skips provisioning and the pull: the instance and its image are
still there, only the runtime, the application and the probe start again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..distributions import Empirical
from ..scenario.platform_defaults import Platform
from ..scenario.platform import PHASES


class StartupModel:
    """Draws the phases of one service's start-ups."""

    def __init__(self, platform: Platform, streams, service: str):
        self.platform = platform
        measured = platform.profile.phases if platform.profile else {}
        distributions = {
            "provisioning": platform.provisioning,
            "runtime": platform.runtime,
            "app_init": platform.app_init,
            "readiness": platform.readiness,
        }
        self._draw: dict[str, Callable[[], float]] = {}
        for phase in PHASES:
            if phase in measured:
                dist = Empirical(values=measured[phase])
            elif phase == "image_pull":
                continue
            else:
                dist = distributions[phase]
            self._draw[phase] = dist.sampler(streams(f"startup:{service}.{phase}"))
        if "image_pull" not in self._draw:
            pull_s = platform.image_mb / platform.pull_bandwidth_mb_s
            hit = platform.cache_hit_ratio
            rng: np.random.Generator = streams(f"startup:{service}.cache")
            self._draw["image_pull"] = lambda: 0.0 if rng.random() < hit else pull_s

    def sample(self) -> dict[str, float]:
        """The phases of one full start-up, in seconds, in order."""
        return {phase: self._draw[phase]() for phase in PHASES}

    def sample_restart(self) -> dict[str, float]:
        """A restart in place: runtime, application init and readiness only."""
        return {phase: (self._draw[phase]() if phase in ("runtime", "app_init", "readiness") else 0.0) for phase in PHASES}
