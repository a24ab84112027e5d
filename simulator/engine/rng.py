"""One seeded random stream per source of randomness.

Streams are named (``"arrivals"``, ``"service:api.get"``, ...) and each name maps to its own
``numpy.random.Generator`` derived from the scenario seed, the replication number and a stable hash
of the name (``SeedSequence(seed, spawn_key=(replication, crc32(name)))``). Because a stream
depends on its name and not on the order it was created in, two variants of a design draw the same
arrival times and the same service times for the same services: common random numbers, which
make differences between variants come from the design rather than from luck.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    """The random streams of one replication."""

    def __init__(self, seed: int, replication: int):
        self.seed = seed
        self.replication = replication
        self._made: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        """The generator for ``name`` (the same object each time it is asked for)."""
        generator = self._made.get(name)
        if generator is None:
            key = zlib.crc32(name.encode("utf-8"))
            sequence = np.random.SeedSequence(self.seed, spawn_key=(self.replication, key))
            generator = np.random.Generator(np.random.PCG64(sequence))
            self._made[name] = generator
        return generator
