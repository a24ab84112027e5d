"""Which containers each architecture style needs, as plain data.

A :class:`Topology` lists :class:`Container` specs in start order: infrastructure (PostgreSQL,
the Redis broker) first, then services, then the entry point, the only container published on the
host (``127.0.0.1`` only). Styles that the simulator models without a gateway still get one where
a deployment has several services or replicas behind one URL (service-based always, the monolith,
microkernel, event-driven and space-based when replicated): it stands for the client's own
routing or a load balancer, one proxy hop the simulated style does not have. The same data drives ``archsim deploy up`` and the Kubernetes and
compose manifests, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .project import DEFAULT_PROJECT

STYLES = ("monolith", "microservices", "event-driven", "space-based", "service-based", "microkernel")  #: Deployable styles.
CAPABILITIES = ("catalog", "carts", "inventory", "payments", "notifications", "orders")  #: One microservice each.
DOMAINS = {
    "storefront": ("catalog", "carts"),
    "ordering": ("orders", "inventory", "payments", "notifications"),
}  #: Service-based domain services, grouped as ``style.service-based.domains`` in scenarios/styles-baseline.yaml.
SERVICE_PORT = 8080  #: Port every service listens on inside its container.
EXAMPLE_HOST_PORT = 18080  #: Host port written into compose files; ``deploy up`` picks a free one.

APP_IMAGE = "localhost/archsim-app:latest"
POSTGRES_IMAGE = "localhost/archsim-postgres:latest"
BROKER_IMAGE = "localhost/archsim-broker:latest"


@dataclass(frozen=True)
class Container:
    """One container: what runs, its resources, and how others reach it."""

    name: str  #: Container name, also its DNS name on the style's network.
    role: str  #: ``postgres``, ``broker``, ``monolith``, ``service``, ``gateway``, ``api``, ``worker``, ``unit``, ``pump``, ``domain``, ``core``.
    image: str
    command: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    port: int = SERVICE_PORT  #: Port it listens on inside the container.
    memory_mb: int = 192
    cpus: float = 1.0
    tmpfs_mb: int = 16  #: Size of the writable /tmp (the root filesystem is read-only).
    entry: bool = False  #: Published on 127.0.0.1 as the deployment's URL.
    group: str = ""  #: Replicas share a group (e.g. ``catalog``); manifests make one Deployment per group.

    @property
    def url(self) -> str:
        return f"http://{self.name}:{self.port}"


@dataclass(frozen=True)
class Topology:
    style: str
    replicas: int
    containers: tuple[Container, ...]
    project: str = DEFAULT_PROJECT  #: Namespace: prefixes every container name and the network.

    @property
    def network(self) -> str:
        return f"{self.project}-{self.style}"

    @property
    def entry(self) -> Container:
        return next(c for c in self.containers if c.entry)


@dataclass(frozen=True)
class Secrets:
    """Passwords of one deployment's database and broker (generated per deployment)."""

    database_password: str
    broker_password: str


def build(style: str, replicas: int, secrets: Secrets, project: str = DEFAULT_PROJECT) -> Topology:
    """The containers of ``style`` with ``replicas`` of each scalable service, named ``<project>-<style>-...``."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: expected one of {', '.join(STYLES)}")
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, not {replicas}")
    prefix = f"{project}-{style}"
    containers: list[Container] = []

    def postgres(databases: list[str]) -> Container:
        return Container(
            name=f"{prefix}-postgres", role="postgres", image=POSTGRES_IMAGE, port=5432, memory_mb=384,
            cpus=1.0, tmpfs_mb=256, group="postgres",
            env={"ARCHSIM_DB_PASSWORD": secrets.database_password, "ARCHSIM_DATABASES": " ".join(databases)},
        )

    def dsn(database: str) -> str:
        return f"postgresql://archsim:{secrets.database_password}@{prefix}-postgres:5432/{database}"

    broker = Container(
        name=f"{prefix}-broker", role="broker", image=BROKER_IMAGE, port=6379, memory_mb=256, cpus=0.5,
        group="broker", env={"ARCHSIM_BROKER_PASSWORD": secrets.broker_password},
    )
    broker_url = f"redis://:{secrets.broker_password}@{prefix}-broker:6379/0"

    def replicated(role: str, group: str, env: dict[str, str], command: tuple[str, ...]) -> list[Container]:
        return [
            Container(name=f"{prefix}-{group}-{i}", role=role, image=APP_IMAGE, command=command, env=env, group=group)
            for i in range(1, replicas + 1)
        ]

    def gateway(routes: list[tuple[str, list[Container]]], sticky: bool = False) -> Container:
        spec = ";".join(f"{path}={','.join(c.url for c in targets)}" for path, targets in routes)
        env = {"ARCHSIM_UPSTREAMS": spec, "ARCHSIM_BALANCE": "sticky" if sticky else "round_robin"}
        return Container(name=f"{prefix}-gateway", role="gateway", image=APP_IMAGE, command=("gateway",),
                         env=env, entry=True, group="gateway")

    def front(targets: list[Container], sticky: bool = False) -> list[Container]:
        """One replica is itself the entry point; several get a gateway in front."""
        if len(targets) == 1:
            return [Container(**{**targets[0].__dict__, "entry": True})]
        return [*targets, gateway([("/", targets)], sticky)]

    if style == "monolith":
        containers.append(postgres(["archsim"]))
        containers += front(replicated("monolith", "monolith", {"ARCHSIM_DATABASE_URL": dsn("archsim")}, ("monolith",)))
    elif style == "microservices":
        containers.append(postgres(list(CAPABILITIES)))
        services: dict[str, list[Container]] = {}
        for capability in CAPABILITIES:
            env = {"ARCHSIM_CAPABILITY": capability, "ARCHSIM_DATABASE_URL": dsn(capability)}
            services[capability] = replicated("service", capability, env, ("service",))
        peers = {f"ARCHSIM_{cap.upper()}_URL": ",".join(c.url for c in services[cap]) for cap in CAPABILITIES if cap != "orders"}
        services["orders"] = [Container(**{**c.__dict__, "env": {**c.env, **peers}}) for c in services["orders"]]
        for capability in CAPABILITIES:
            containers += services[capability]
        containers.append(gateway([
            ("/catalog", services["catalog"]),
            ("/carts/*/order", services["orders"]),
            ("/carts", services["carts"]),
            ("/orders", services["orders"]),
        ]))
    elif style == "event-driven":
        containers += [postgres(["archsim"]), broker]
        env = {"ARCHSIM_DATABASE_URL": dsn("archsim"), "ARCHSIM_BROKER_URL": broker_url}
        workers = replicated("worker", "worker", env, ("worker",))
        containers += workers + front(replicated("api", "api", env, ("api",)))
    elif style == "service-based":
        containers.append(postgres(["archsim"]))
        domains: dict[str, list[Container]] = {}
        for domain, members in DOMAINS.items():
            env = {"ARCHSIM_DOMAIN": domain, "ARCHSIM_CAPABILITIES": ",".join(members), "ARCHSIM_DATABASE_URL": dsn("archsim")}
            domains[domain] = replicated("domain", domain, env, ("domain",))
        # a domain service reaches the capabilities of the others over HTTP
        for domain, members in DOMAINS.items():
            peers = {f"ARCHSIM_{cap.upper()}_URL": ",".join(c.url for c in domains[other])
                     for other, hosted in DOMAINS.items() if other != domain for cap in hosted}
            domains[domain] = [Container(**{**c.__dict__, "env": {**c.env, **peers}}) for c in domains[domain]]
            containers += domains[domain]
        containers.append(gateway([
            ("/carts/*/order", domains["ordering"]),
            ("/orders", domains["ordering"]),
            ("/catalog", domains["storefront"]),
            ("/carts", domains["storefront"]),
        ]))
    elif style == "microkernel":
        containers.append(postgres(["archsim"]))
        containers += front(replicated("core", "core", {"ARCHSIM_DATABASE_URL": dsn("archsim")}, ("microkernel",)))
    else:  # space-based
        containers += [postgres(["archsim"]), broker]
        pump = Container(name=f"{prefix}-pump", role="pump", image=APP_IMAGE, command=("pump",), group="pump",
                         env={"ARCHSIM_DATABASE_URL": dsn("archsim"), "ARCHSIM_BROKER_URL": broker_url})
        units = replicated("unit", "unit", {"ARCHSIM_BROKER_URL": broker_url}, ("unit",))
        containers += [pump, *front(units, sticky=True)]
    return Topology(style, replicas, tuple(containers), project)
