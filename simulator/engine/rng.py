"""One seeded random stream per source of randomness, and draws indexed by request.

Streams are named (``"arrivals"``, ``"demand:catalog.search"``, ...) and each name maps to its own
``numpy.random.Generator`` derived from the scenario seed, the replication number and a stable hash
of the name (``SeedSequence(seed, spawn_key=(replication, crc32(name)))``). A stream depends on its
name, not on the order it was created in.

Sequential streams are not enough for common random numbers across designs: if a demand is drawn
in event order, a design that serves requests in another order (or adds a call) hands the same
request another number. So the demands and hops of a request come from :class:`RequestDraws`: the
draw of request ``k`` on its ``v``-th visit to a logical source is element ``k % BATCH`` of block
``k // BATCH`` of the source, a block seeded by ``SeedSequence(seed, spawn_key=(replication,
crc32(name), v, block))``. Any draw can be made again from its coordinates, whatever the order in
which requests reach the source, and two variants that name the source alike (styles name it by
the capability operation, not by the service it lands on) give request ``k`` the same number.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np

from ..distributions import BATCH

#: Blocks of one source kept at once (32 KB each); a block no longer kept is drawn again,
#: identically, if a late request needs it.
KEPT_BLOCKS = 4
SHIFT = BATCH.bit_length() - 1  #: ``index >> SHIFT`` is the block number (BATCH is a power of two).
MASK = BATCH - 1
assert BATCH == 1 << SHIFT


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

    def per_request(self, name: str, distribution: Any) -> "RequestSampler":
        """Draws of ``distribution`` (anything with ``draw(rng, n)``) indexed by request and visit:
        :meth:`RequestDraws.next_for` of the source (a bound method: CPython 3.11 calls one about
        five times faster than an object's ``__call__``, and it runs on every visit)."""
        return RequestDraws(self.seed, self.replication, name, distribution).next_for


class RequestDraws:
    """The draws of one logical source, by (request index, visit number); see the module docstring.

    :meth:`next_for` a request (anything with ``index`` and a ``visits`` dict) returns the
    request's draw for its next visit to this source and counts the visit.
    """

    __slots__ = ("seed", "replication", "name", "key", "distribution", "_blocks", "constant", "_last_key", "_last_block",
                 "_first_block", "_first", "_by_visit")

    def __init__(self, seed: int, replication: int, name: str, distribution: Any):
        self.seed = seed
        self.replication = replication
        self.name = name
        self.key = zlib.crc32(name.encode("utf-8"))
        self.distribution = distribution
        #: The value when the distribution has no variance (no random numbers needed).
        self.constant: float | None = distribution.mean if distribution.variance == 0 else None
        #: (visit, block number) -> its draws, least recently used first; array('d') hands out
        #: Python floats at 8 bytes each.
        self._blocks: dict[tuple[int, int], array] = {}
        self._last_key: tuple[int, int] | None = None
        self._last_block: array | None = None
        self._first_block = -1  #: Block number of ``_first``, the block of first visits last used.
        self._first: array | None = None
        #: visit -> (block number, its draws): the block each visit number used last. Requests
        #: arrive in index order, so each visit number moves through its blocks in order; without
        #: this, a source visited several times per request (a database read j times) cycles
        #: through more (visit, block) keys than the LRU keeps and draws a block on almost every
        #: call (seen: styles-baseline's monolith twice as slow).
        self._by_visit: dict[int, tuple[int, array]] = {}

    def value(self, index: int, visit: int = 0) -> float:
        """The draw of request ``index`` on its ``visit``-th visit (0-based)."""
        if self.constant is not None:
            return self.constant
        block_number, offset = divmod(index, BATCH)
        key = (visit, block_number)
        if key == self._last_key:  # the common case: the block the previous request used
            return self._last_block[offset]
        recent = self._by_visit.get(visit)
        if recent is not None and recent[0] == block_number:
            self._last_key, self._last_block = key, recent[1]
            return recent[1][offset]
        block = self._blocks.pop(key, None)
        if block is None:
            sequence = np.random.SeedSequence(self.seed, spawn_key=(self.replication, self.key, visit, block_number))
            block = array("d")
            block.frombytes(self.distribution.draw(np.random.Generator(np.random.PCG64(sequence)), BATCH).astype(float).tobytes())
            if len(self._blocks) >= KEPT_BLOCKS:
                del self._blocks[next(iter(self._blocks))]  # the least recently used
        self._blocks[key] = block  # most recently used last
        self._by_visit[visit] = (block_number, block)
        self._last_key, self._last_block = key, block
        return block[offset]

    def next_for(self, request: Any) -> float:
        """The request's draw for its next visit to this source (the visit is counted)."""
        if self.constant is not None:  # no random numbers: no visit to count either
            return self.constant
        visits = request.visits
        name = self.name
        visit = visits.get(name)
        if visit is not None:  # a repeat visit
            visits[name] = visit + 1
            return self.value(request.index, visit)
        visits[name] = 1  # the hot path: a first visit, most often in the block of the previous one
        index = request.index
        if index >> SHIFT == self._first_block:
            return self._first[index & MASK]
        value = self.value(index, 0)
        self._first_block, self._first = index >> SHIFT, self._last_block
        return value


RequestSampler = Callable[[Any], float]  #: A per-request draw: ``sampler(request) -> value``.
