"""Space-based: processing units with an in-memory data grid, and a data pump writing behind.

Every request runs in one of ``units`` identical processing units (the deployable
``processing-unit``, one instance per unit), each holding the whole application and a full replica
of the data grid. Capabilities call each other in-process (``style.in_process_call``). A read is
served from the local replica (``grid_read`` of CPU, no network). A write updates the local
replica (``grid_write``), replicates the change to every other unit (``replication_per_unit`` of
CPU for each of the ``units - 1`` peers, so replication cost grows linearly with the number of
units) and hands the change to the ``data-pump``, fire-and-forget. The pump writes it to the
database ``db`` later (write-behind): the database is never on the request path. The write-behind
lag (request start to the row being in the database) is reported as the end-to-end latency of the
asynchronous work, ``async_latency_*``.

The peers' share of replication is charged to the writing unit: units are identical and load is
balanced over them, so each unit's CPU is the same either way; the writer does not wait for the
peers to acknowledge (asynchronous replication).
"""

from __future__ import annotations

from .building import Build, Hops, call, work

KIND = "space-based"
UNIT = "processing-unit"  #: The processing unit deployable (one instance per unit).
PUMP = "data-pump"  #: Writes grid changes to the database, off the request path.
DATABASE = "db"


def compile(b: Build) -> None:
    """Build the processing units, the data pump and the database behind them."""
    settings = b.style.space_based
    ser = b.style.serialisation
    peers = settings.units - 1
    replicate = work(settings.replication_per_unit.scaled(peers)) if peers else []
    write_behind = work(ser) + [call(f"{PUMP}.write", mode="async")]

    unit_ops: dict = {}
    for request, spec in b.app.requests.items():
        hops = b.hops.setdefault(request, Hops())
        hops.add(1)  # client -> processing unit
        calls: list = []
        for step in spec.steps:
            _, _, op = b.operation(step.use)
            calls += work(b.style.in_process_call)
            calls += work(settings.grid_read) * op.reads
            calls += work(op.cpu, step.use)
            calls += (work(settings.grid_write) + replicate + write_behind) * op.writes
            hops.add(op.writes * (peers + 2), waited_for=False)  # copies to peers, unit -> pump, pump -> db
        unit_ops[request] = {"calls": calls}
        b.request_class(request, [call(f"{UNIT}.{request}")])

    b.placement.update({capability: UNIT for capability in b.app.capabilities})
    b.deployable(UNIT, unit_ops, instances=settings.units)
    b.deployable(PUMP, {"write": {"calls": work(ser) + [call(f"{DATABASE}.write")]}})
    b.database(DATABASE)
    b.facts["units"] = settings.units
    b.parameters["grid_read_s"] = settings.grid_read.mean
    b.parameters["grid_write_s"] = settings.grid_write.mean
    b.parameters["replication_per_unit_s"] = settings.replication_per_unit.mean
    b.parameters["replication_per_write_s"] = settings.replication_per_unit.mean * peers
