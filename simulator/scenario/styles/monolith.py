"""Layered monolith: the whole application in one deployable over one shared database.

Every capability lives in the deployable ``monolith``; a request enters it and calls each
capability in-process (``style.in_process_call`` of CPU, no network, no serialisation). All
capabilities share the database ``db``, whose ``pool`` bounds the queries in flight. Scaling means
replicating the whole unit (``style.instances`` or ``style.monolith.deployables.monolith``), and a
crash of one instance takes every capability of that replica down with it: there is nothing else
to crash.
"""

from __future__ import annotations

from .building import Build, synchronous_layout

KIND = "monolith"
DEPLOYABLE = "monolith"  #: The one deployable.
DATABASE = "db"  #: The one shared database.


def compile(b: Build) -> None:
    """Build the monolith: one deployable holding every capability, one shared database."""
    capabilities = list(b.app.capabilities)
    operations = synchronous_layout(
        b,
        deployable_of={c: DEPLOYABLE for c in capabilities},
        database_of={c: DATABASE for c in capabilities},
        local_call=lambda capability: b.style.in_process_call,
    )
    b.deployable(DEPLOYABLE, operations[DEPLOYABLE])
    b.database(DATABASE)
