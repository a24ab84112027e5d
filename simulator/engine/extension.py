"""The one way to extend a simulation: a factory called once the model is built, returning an
object that is told about every time-series tick and about the result.

Platforms (lifecycles, hosts, autoscalers, rollouts, failure injection) and the resilience report
all attach this way; the engine knows nothing about them and never imports them. Whoever runs a
replication chooses the factories (:func:`simulator.platforms.extensions_for`) and passes them to
:func:`~.simulation.simulate` / :func:`~.experiment.run_replication`, so a plain scenario pays
nothing and the engine stays the bottom layer.

The three hooks, in the order they are called:

1. **build**: ``factory(simulation)`` after every service, instance, call step, the workload and
   the recorder exist, before the first event. It may schedule events (``simulation.at``), start
   SimPy processes, add or remove instances through the services, and return ``None`` if it has
   nothing more to do.
2. **tick**: ``extension.tick(row, dt)`` when a time-series interval closes, after the engine's own
   columns are in ``row``; it adds columns (e.g. ``starting.<service>``). ``dt`` is the interval's
   length in simulated seconds.
3. **result**: ``extension.result(result)`` once the run is over, after the engine's figures are
   in ``result``; it adds blocks to ``result.extras`` (aggregated over replications like every
   other number).

Factories must be module-level functions (or other picklable objects) so a sweep can send them to
worker processes; in practice they are chosen inside the worker from the scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .metrics import ReplicationResult
    from .simulation import Simulation


class Extension:
    """What an extension can do after it is built. Both hooks do nothing unless overridden."""

    def tick(self, row: dict[str, Any], dt: float) -> None:
        """Add columns to the time-series row of the interval that just closed."""

    def result(self, result: "ReplicationResult") -> None:
        """Add blocks to ``result.extras`` at the end of the replication."""


#: The build hook: called with the built simulation, returns its :class:`Extension` (or ``None``).
ExtensionFactory = Callable[["Simulation"], "Extension | None"]


def build(simulation: "Simulation", factories: Sequence[ExtensionFactory]) -> list[Extension]:
    """Call every factory on ``simulation``, in order; the extensions that want ticks and results."""
    built = (factory(simulation) for factory in factories)
    return [extension for extension in built if extension is not None]
