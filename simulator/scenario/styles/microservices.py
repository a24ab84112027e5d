"""Microservices: one deployable per capability, each with its own database, behind an API gateway.

A request goes client -> ``gateway`` -> the service of its first capability, which orchestrates
the rest: every later step of another capability is a synchronous network call to that
capability's service. Each call between deployables costs one network round trip
(``network.latency`` each way) and ``style.serialisation`` CPU at each end; the gateway adds
``style.microservices.gateway_cpu`` for routing. Each capability ``c`` keeps its data in its own
database ``c-db`` (sized like ``application.database``), and each service is scaled on its own
(``style.microservices.deployables.<capability>``).
"""

from __future__ import annotations

from .building import Build, synchronous_layout

KIND = "microservices"
GATEWAY = "gateway"  #: The API gateway deployable.


def database_of(capability: str) -> str:
    """The name of a capability's own database."""
    return f"{capability}-db"


def compile(b: Build) -> None:
    """Build the microservices: a service and a database per capability, and the gateway."""
    settings = b.style.microservices
    capabilities = list(b.app.capabilities)
    operations = synchronous_layout(
        b,
        deployable_of={c: c for c in capabilities},
        database_of={c: database_of(c) for c in capabilities},
        local_call=lambda capability: b.style.in_process_call,
        gateway=GATEWAY,
        gateway_cpu=settings.gateway_cpu,
    )
    b.deployable(GATEWAY, operations[GATEWAY])
    for capability in capabilities:
        b.deployable(capability, operations[capability])
    for capability in capabilities:
        b.database(database_of(capability))
    b.parameters["gateway_cpu_s"] = settings.gateway_cpu.mean
