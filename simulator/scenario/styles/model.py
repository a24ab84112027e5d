"""The ``application`` and ``style`` sections of a scenario, as pydantic models.

``application`` describes the system once, whatever its architecture: the business capabilities
with the CPU and database work of each operation, the database, and the request classes as an
ordered list of capability operations. ``style`` says how it is built: ``kind`` picks one of the
six styles and the per-style sections hold each style's parameters. Every per-style section is
always validated (so a typo is caught even in a style not being run), but only the one named by
``kind`` is compiled; that is what lets a variant switch styles with ``set: {style.kind: ...}``.

Every default below is documented, with where it comes from, in ``docs/styles.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from ...distributions import Deterministic, Distribution, Exponential
from ..platform import Deployment, ServicePlatformField
from ..model import Seconds
from ...strict import Strict

#: The style kinds, in the order the issue lists them (the four of the mission first).
KINDS = ("monolith", "microservices", "event-driven", "space-based", "service-based", "microkernel")
Kind = Literal["monolith", "microservices", "event-driven", "space-based", "service-based", "microkernel"]


def _const(value_s: float) -> Distribution:
    return Deterministic(value=value_s)


# --- the application ---------------------------------------------------------------------------


class CapabilityOperation(Strict):
    """One operation of a business capability: database reads, then CPU, then database writes."""

    cpu: Distribution = Field(default=_const(0.0), description="CPU demand of the business logic, per call")
    reads: int = Field(default=0, ge=0, le=100, description="database reads (queries) per call")
    writes: int = Field(default=0, ge=0, le=100, description="database writes (statements) per call")


class Database(Strict):
    """The database the capabilities keep their data in (one shared, or one per capability)."""

    read: Distribution = Field(default=Exponential(mean=0.001), description="service time of one read at the database")
    write: Distribution = Field(default=Exponential(mean=0.003), description="service time of one write at the database")
    cores: int = Field(default=4, ge=1, description="database CPUs serving queries in parallel")
    pool: int = Field(default=20, ge=1, description="connections: queries in the database at once; the rest wait")


def _shorthand_step(value: Any) -> Any:
    return {"use": value} if isinstance(value, str) else value


class RequestStep(Strict):
    """A capability operation a request uses, written ``capability.operation``."""

    use: str = Field(description="`capability.operation`")
    deferrable: bool = Field(
        default=False,
        description="the client does not need its result: event-driven publishes it as an event; other styles still do it before answering",
    )


class RequestSpec(Strict):
    """A request class: the capability operations it touches, in order."""

    steps: list[Annotated[RequestStep, BeforeValidator(_shorthand_step)]] = Field(min_length=1)
    timeout_s: Seconds | None = Field(default=None, alias="timeout", gt=0)


class Application(Strict):
    """The application, described once for every style."""

    database: Database = Field(default_factory=Database)
    capabilities: dict[str, dict[str, CapabilityOperation]] = Field(
        min_length=1, description="capability -> operation -> its CPU and database work"
    )
    requests: dict[str, RequestSpec] = Field(min_length=1, description="request class -> the steps it takes")


# --- the style -----------------------------------------------------------------------------------


class Deployable(Strict):
    """Overrides for one deployable of a style (the style-wide defaults apply otherwise)."""

    instances: int | None = Field(default=None, ge=1)
    cores: int | None = Field(default=None, ge=1)
    concurrency: int | None = Field(default=None, ge=1)
    queue: int | None = Field(default=None, ge=0)
    load_balancing: Literal["round_robin", "least_connections", "random"] | None = None
    platform: ServicePlatformField = Field(default=None, description="where this deployable runs, instead of `style.platform`")


Deployables = dict[str, Deployable]


class Monolith(Strict):
    """Layered monolith: one deployable ``monolith`` holding every capability."""

    deployables: Deployables = Field(default_factory=dict)


class Microservices(Strict):
    """One deployable per capability, each with its own database, behind an API gateway."""

    gateway_cpu: Distribution = Field(default=_const(50e-6), description="routing/authentication CPU at the gateway per request")
    deployables: Deployables = Field(default_factory=dict)


class Broker(Strict):
    """The message broker: every event is appended once (its service time) on one of its cores."""

    service_time: Distribution = Field(default=Exponential(mean=200e-6), description="broker CPU per published event")
    cores: int = Field(default=1, ge=1)
    capacity: int | None = Field(default=None, ge=0, description="events each consumer instance may have waiting; beyond -> refused")


class Topic(Strict):
    """A topic and the capabilities whose consumers subscribe to it."""

    consumers: list[str] = Field(description="capabilities consuming this topic")


class EventDriven(Strict):
    """Producers publish deferrable steps to a broker and answer; consumers do them later."""

    broker: Broker = Field(default_factory=Broker)
    topics: dict[str, Topic] | None = Field(default=None, description="default: one topic per request class with deferrable steps")
    redeliveries: int = Field(default=10, ge=0, le=100, description="extra deliveries of an event whose consumer failed")
    redelivery_after: Distribution = Field(default=_const(1.0), description="wait before an event is delivered again")
    deployables: Deployables = Field(default_factory=dict)


class SpaceBased(Strict):
    """Processing units with an in-memory data grid; a data pump writes behind to the database."""

    units: int = Field(default=3, ge=1, description="processing units (each holds a replica of the grid)")
    grid_read: Distribution = Field(default=_const(10e-6), description="CPU of a read from the local grid replica")
    grid_write: Distribution = Field(default=_const(20e-6), description="CPU of a write to the local grid replica")
    replication_per_unit: Distribution = Field(
        default=_const(50e-6), description="CPU per write per other unit, to serialise, send and apply the copy"
    )
    deployables: Deployables = Field(default_factory=dict)


class ServiceBased(Strict):
    """A few coarse domain services over one shared database."""

    domains: dict[str, list[str]] | None = Field(
        default=None, description="domain service -> its capabilities; default: capabilities used by the same request go together"
    )
    deployables: Deployables = Field(default_factory=dict)


class Microkernel(Strict):
    """A core system with plug-ins called in-process through a registry."""

    core: list[str] | None = Field(default=None, description="capabilities in the core; default: those that start a request")
    plugin_call: Distribution = Field(default=_const(5e-6), description="CPU of a registry lookup and a call through the plug-in contract")
    deployables: Deployables = Field(default_factory=dict)


class Rollout(Deployment):
    """A rolling update of the deployable that runs ``capability`` (whichever it is in each style)."""

    capability: str = Field(description="the capability whose new version ships; its deployable is rolled out")


class Style(Strict):
    """How the application is built: ``kind`` plus every style's parameters (only ``kind`` is used)."""

    kind: Kind
    instances: int = Field(default=1, ge=1, description="instances of each deployable unless overridden")
    cores: int = Field(default=2, ge=1, description="cores per instance unless overridden")
    concurrency: int = Field(default=32, ge=1, description="worker threads per instance unless overridden")
    queue: int | None = Field(default=None, ge=0, description="requests waiting per instance; default unbounded")
    serialisation: Distribution = Field(
        default=_const(100e-6), description="CPU at each end of a call between deployables (encode + decode)"
    )
    in_process_call: Distribution = Field(default=_const(1e-6), description="CPU of a call between capabilities in one process")
    platform: ServicePlatformField = Field(
        default=None, description="where every service of the style runs (deployables, databases, broker): vm, container, microvm or process"
    )
    rollout: Rollout | None = Field(default=None, description="a rolling update, during the run, of the deployable that runs one capability")
    monolith: Monolith = Field(default_factory=Monolith)
    microservices: Microservices = Field(default_factory=Microservices)
    event_driven: EventDriven = Field(default_factory=EventDriven, alias="event-driven")
    space_based: SpaceBased = Field(default_factory=SpaceBased, alias="space-based")
    service_based: ServiceBased = Field(default_factory=ServiceBased, alias="service-based")
    microkernel: Microkernel = Field(default_factory=Microkernel)

    def settings(self) -> Any:
        """The section of the style being compiled."""
        return getattr(self, self.kind.replace("-", "_"))


class StyledDocument(Strict):
    """Only the two sections this package reads; the rest of the scenario is validated later."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, validate_default=True)

    application: Application
    style: Style
