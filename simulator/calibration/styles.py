"""One calibration structure per deployed style, picked by name.

A builder reads the deployment actually run (``deploy/topology.py``: the containers, their roles,
replicas and ``--cpus``) and returns the model a calibration fits (:class:`~.structure.Structure`),
which container belongs to which tier, and the response header that carries the services'
per-request CPU at the entry point. The call graph of each style is read from the reference code
in ``loadtests/services/archsim_services/``: every database statement is one round trip, a
transaction adds BEGIN and COMMIT (``Database.execute`` is a one-statement transaction, 3), and
every HTTP call between deployables is one round trip that the callee serves as an operation.

Each operation also says which of the application's capability operations it performs (the
``application`` of ``scenarios/styles-baseline.yaml``: ``catalog.item``, ``cart.add``, ...), so
demands fitted on one style can be carried to another (``predict.py``).

``STRUCTURES`` is the one seam: a style has a calibration exactly when it has a builder here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..deploy import topology as topologies
from ..errors import ArchsimError
from .structure import Operation, Structure, Tier, app_and_database, from_calls, shop_monolith_queries

APP_CONCURRENCY = 256  #: asyncio holds any number of requests; the model holds up to this many per instance.
DB_POOL = 8  #: asyncpg pool size per application process (loadtests/services/archsim_services/database.py).
CPU_HEADER = "X-CPU-Time-Ms"  #: The service's own per-request CPU, when the service is the entry point.
UPSTREAM_CPU_HEADER = "X-Upstream-CPU-Time-Ms"  #: The same, passed on by the gateway (gateway.py).
GATEWAY_PROXY: dict[str, float] = {}  #: The gateway performs no capability operation: its CPU is the style's own.
PLACE_ORDER_OWN = ("orders.place", "orders.record", "inventory.reserve", "payment.charge", "notification.send", "orders.confirm")
"""Capability operations of placing an order besides reading the cart and the products and clearing the cart."""


@dataclass(frozen=True)
class Deployed:
    """What a calibration needs to know about one deployment."""

    structure: Structure
    tiers: dict[str, str]  #: Container name -> tier (the CPU of every container is attributed to its tier).
    cpu_header: str  #: Response header with the reported per-request CPU at the entry point.


def items_per_order(mix: dict[str, float]) -> float:
    """Items in a cart when it is ordered: adds per order (each add picks a random product of 1,000, so repeats are rare)."""
    orders = mix.get("place_order", 0.0)
    return max(mix.get("add_to_cart", 0.0) / orders if orders else 1.0, 1.0)


def shop_work(mix: dict[str, float]) -> dict[str, dict[str, float]]:
    """The application's capability operations of one request of each class (the shop's ``requests``)."""
    items = items_per_order(mix)
    return {"browse": {"catalog.item": 1.0}, "add_to_cart": {"cart.add": 1.0}, "order_status": {"orders.status": 1.0},
            "place_order": {"cart.items": 1.0, "catalog.item": items, "cart.clear": 1.0, **{w: 1.0 for w in PLACE_ORDER_OWN}}}


def _cores(container: topologies.Container) -> int:
    return max(1, math.ceil(container.cpus))


def _database(plan: topologies.Topology, app_processes: int) -> Tier:
    db = next(c for c in plan.containers if c.role == "postgres")
    return Tier("db", 1, _cores(db), DB_POOL * app_processes, db.cpus)


def _one_deployable(style: str, role: str, tier: str, plan: topologies.Topology, mix: dict[str, float]) -> Deployed:
    """A single deployable (replicated behind a gateway when there are several) and the database."""
    app = [c for c in plan.containers if c.role == role]
    queries = shop_monolith_queries(mix)
    work = shop_work(mix)
    structure = app_and_database(
        style, queries,
        app=Tier(tier, len(app), 1, APP_CONCURRENCY, app[0].cpus),
        database=_database(plan, len(app)),
        work={(tier, c): w for c, w in work.items()},
        notes=[f"database round trips per class counted from the reference code: {queries}",
               f"the {tier} is one asyncio thread per replica: one core in the model, whatever the CPU limit"],
    )
    tiers = {c.name: (tier if c.role in (role, "gateway") else "db" if c.role == "postgres" else c.role) for c in plan.containers}
    return Deployed(structure, tiers, CPU_HEADER if plan.entry.role == role else UPSTREAM_CPU_HEADER)


def monolith(plan: topologies.Topology, mix: dict[str, float]) -> Deployed:
    """The monolith: one deployable, one database; placing an order runs every capability in-process."""
    return _one_deployable("monolith", "monolith", "monolith", plan, mix)


def microkernel(plan: topologies.Topology, mix: dict[str, float]) -> Deployed:
    """Microkernel: the core (catalog, carts, orders) calls its plug-ins (inventory, payments,
    notifications) in-process through the registry, on the same shared database and the same
    capability code (``plugins/*.py`` wrap ``domain.py``), so the round trips are the monolith's."""
    return _one_deployable("microkernel", "core", "core", plan, mix)


def service_based(plan: topologies.Topology, mix: dict[str, float]) -> Deployed:
    """Service-based: a gateway, the storefront (catalog, carts) and ordering (orders, inventory,
    payments, notifications) domain services, one shared database.

    Browse and add to cart are the storefront's (1 and 4 round trips, as in the monolith); order
    status is ordering's (1). Placing an order in ordering reads the cart from the storefront over
    HTTP (``GET /carts/{id}/items``: 1 query there), each of its ``k`` products (``GET
    /catalog/{id}``, the browse route: 1 query each), clears the cart (``DELETE``: 3 there), and
    does the rest in-process: create the order (3 + k), reserve (2 + 2k), charge, confirm and
    notify (3 each), so 14 + 3k queries of its own and 18 + 4k in all, as in the monolith.
    The gateway proxies every request to its domain service: one operation ``proxy`` whatever the
    class (one demand: at one load mix the data could not split it by class).
    """
    domains = {name: [c for c in plan.containers if c.role == "domain" and c.group == name] for name in topologies.DOMAINS}
    gateway = plan.entry
    items = items_per_order(mix)
    products = round(items)
    own_queries = round(14 + 3 * items)
    tiers = {
        "gateway": Tier("gateway", 1, 1, APP_CONCURRENCY, gateway.cpus),
        **{name: Tier(name, len(cs), 1, APP_CONCURRENCY, cs[0].cpus) for name, cs in domains.items()},
        "db": _database(plan, sum(len(cs) for cs in domains.values())),
    }
    proxy: Operation = ("gateway", "proxy")
    query: Operation = ("db", "query")
    home = {"browse": "storefront", "add_to_cart": "storefront", "place_order": "ordering", "order_status": "ordering"}
    calls = {c: (proxy, (domain, c)) for c, domain in home.items()}
    downstream = {
        ("storefront", "browse"): (query,),
        ("storefront", "add_to_cart"): (query,) * 4,
        ("storefront", "cart_items"): (query,),
        ("storefront", "clear_cart"): (query,) * 3,
        ("ordering", "place_order"): (("storefront", "cart_items"), *(("storefront", "browse"),) * products,
                                      ("storefront", "clear_cart"), *(query,) * own_queries),
        ("ordering", "order_status"): (query,),
    }
    work = {proxy: GATEWAY_PROXY, ("storefront", "browse"): {"catalog.item": 1.0}, ("storefront", "add_to_cart"): {"cart.add": 1.0},
            ("storefront", "cart_items"): {"cart.items": 1.0}, ("storefront", "clear_cart"): {"cart.clear": 1.0},
            ("ordering", "place_order"): {w: 1.0 for w in PLACE_ORDER_OWN}, ("ordering", "order_status"): {"orders.status": 1.0}}
    structure = from_calls(
        "service-based", tiers, calls, downstream, reported={c: (domain, c) for c, domain in home.items()}, work=work,
        notes=[f"placing an order calls the storefront {products + 2} times over HTTP (the cart, {products} products, clearing the cart) "
               f"and makes {own_queries} database round trips of its own, counted from the reference code",
               "every domain service and the gateway is one asyncio thread per replica: one core in the model",
               "the gateway's CPU per proxied request is one demand, whatever the class"],
    )
    container_tiers = {c.name: ("db" if c.role == "postgres" else "gateway" if c.role == "gateway" else c.group) for c in plan.containers}
    return Deployed(structure, container_tiers, UPSTREAM_CPU_HEADER)


def microservices(plan: topologies.Topology, mix: dict[str, float]) -> Deployed:
    """Microservices: a gateway and one service per capability, each with its own database (all
    databases in the one PostgreSQL container, so one database tier).

    Browse, add to cart and order status go to catalog, carts and orders (1, 4, 1 queries). The
    orders service places an order over HTTP: the cart from carts (``GET``: 1 query there), each
    product from catalog (1 each), clearing the cart (``DELETE``: 3), the reservation at inventory
    (2 + 2k), the charge at payments (3) and the notification (3); it records the order and its
    status itself (3 + k and 3). The products are called round(k) times, and the orders service's
    own queries are what keeps the total at the monolith's 18 + 4k (both rounded).
    """
    items = items_per_order(mix)
    products = round(items)
    reserve_queries = round(2 + 2 * items)
    own_queries = round(18 + 4 * items) - (1 + products + 3 + reserve_queries + 3 + 3)
    services = {cap: [c for c in plan.containers if c.role == "service" and c.group == cap] for cap in topologies.CAPABILITIES}
    tiers = {"gateway": Tier("gateway", 1, 1, APP_CONCURRENCY, plan.entry.cpus),
             **{cap: Tier(cap, len(cs), 1, APP_CONCURRENCY, cs[0].cpus) for cap, cs in services.items()},
             "db": _database(plan, sum(len(cs) for cs in services.values()))}
    proxy: Operation = ("gateway", "proxy")
    query: Operation = ("db", "query")
    home = {"browse": ("catalog", "browse"), "add_to_cart": ("carts", "add_to_cart"),
            "place_order": ("orders", "place_order"), "order_status": ("orders", "order_status")}
    downstream = {
        ("catalog", "browse"): (query,), ("carts", "add_to_cart"): (query,) * 4, ("carts", "cart_items"): (query,),
        ("carts", "cart_clear"): (query,) * 3, ("inventory", "reserve"): (query,) * reserve_queries,
        ("payments", "charge"): (query,) * 3, ("notifications", "send"): (query,) * 3, ("orders", "order_status"): (query,),
        ("orders", "place_order"): (("carts", "cart_items"), *(("catalog", "browse"),) * products, ("carts", "cart_clear"),
                                    ("inventory", "reserve"), ("payments", "charge"), ("notifications", "send"), *(query,) * own_queries),
    }
    work = {proxy: GATEWAY_PROXY, ("catalog", "browse"): {"catalog.item": 1.0}, ("carts", "add_to_cart"): {"cart.add": 1.0},
            ("carts", "cart_items"): {"cart.items": 1.0}, ("carts", "cart_clear"): {"cart.clear": 1.0},
            ("inventory", "reserve"): {"inventory.reserve": 1.0}, ("payments", "charge"): {"payment.charge": 1.0},
            ("notifications", "send"): {"notification.send": 1.0}, ("orders", "order_status"): {"orders.status": 1.0},
            ("orders", "place_order"): {"orders.place": 1.0, "orders.record": 1.0, "orders.confirm": 1.0}}
    structure = from_calls(
        "microservices", tiers, {c: (proxy, op) for c, op in home.items()}, downstream, reported=home, work=work,
        notes=[f"placing an order calls {products + 5} other services over HTTP (the cart, {products} products, clearing the cart, "
               f"reserving, charging, notifying) and makes {own_queries} database round trips of its own, counted from the reference code",
               "every service and the gateway is one asyncio thread per replica: one core in the model",
               "the services' databases share one PostgreSQL container: one database tier",
               "the gateway's CPU per proxied request is one demand, whatever the class"],
    )
    container_tiers = {c.name: ("db" if c.role == "postgres" else "gateway" if c.role == "gateway" else c.group) for c in plan.containers}
    return Deployed(structure, container_tiers, UPSTREAM_CPU_HEADER)


def _broker(plan: topologies.Topology) -> Tier:
    """Redis: one thread, so one core whatever its CPU limit, and one command at a time."""
    broker = next(c for c in plan.containers if c.role == "broker")
    return Tier("broker", 1, 1, 1, broker.cpus)


def event_driven(plan: topologies.Topology, mix: dict[str, float]) -> Deployed:
    """Event-driven: the ``api`` (catalog, carts, orders) and ``worker`` replicas share one
    database; placing an order is accepted by the api and fulfilled asynchronously by a worker.

    Browse, add to cart and order status are the api's, as in the monolith (1, 4, 1 queries).
    Placing an order with ``k`` items at the api reads the cart (1) and each product (k), creates
    the order (3 + k), clears the cart (3), ``XADD``s the event to the Redis stream (one round
    trip to the broker) and answers: 7 + 2k queries on the response path. A worker of the consumer
    group reads the event (``XREADGROUP``) and fulfils it off the response path: reserves (2 + 2k),
    charges (3), confirms (3) and notifies (3), 11 + 2k queries, then ``XACK``s. The broker's CPU
    per order (the append, the read and the acknowledgement) is one demand ``broker.publish``; the
    worker's ``fulfil`` and its queries are asynchronous work: CPU on the worker, the broker, the
    database and the shared host, not in the order's response time.
    """
    items = items_per_order(mix)
    products = round(items)
    accept_queries = round(7 + 2 * items)
    fulfil_queries = round(18 + 4 * items) - accept_queries
    api = [c for c in plan.containers if c.role == "api"]
    workers = [c for c in plan.containers if c.role == "worker"]
    tiers = {"api": Tier("api", len(api), 1, APP_CONCURRENCY, api[0].cpus),
             "broker": _broker(plan),
             "worker": Tier("worker", len(workers), 1, 1, workers[0].cpus),  # one event at a time per worker
             "db": _database(plan, len(api) + len(workers))}
    query: Operation = ("db", "query")
    publish: Operation = ("broker", "publish")
    fulfil: Operation = ("worker", "fulfil")
    simple = {"browse": 1, "add_to_cart": 4, "order_status": 1}
    downstream = {**{("api", c): (query,) * n for c, n in simple.items()},
                  ("api", "place_order"): (*(query,) * accept_queries, publish),
                  publish: (fulfil,),
                  fulfil: (query,) * fulfil_queries}
    work = {("api", "browse"): {"catalog.item": 1.0}, ("api", "add_to_cart"): {"cart.add": 1.0},
            ("api", "order_status"): {"orders.status": 1.0},
            ("api", "place_order"): {"cart.items": 1.0, "catalog.item": items, "cart.clear": 1.0, "orders.place": 1.0, "orders.record": 1.0},
            publish: {}, fulfil: {"inventory.reserve": 1.0, "payment.charge": 1.0, "orders.confirm": 1.0, "notification.send": 1.0}}
    classes = ("browse", "add_to_cart", "place_order", "order_status")
    structure = from_calls(
        "event-driven", tiers, {c: (("api", c),) for c in classes}, downstream, work=work, asynchronous={fulfil},
        notes=[f"placing an order makes {accept_queries} database round trips at the api ({products} products) and one append to the "
               f"broker, then answers; a worker fulfils it asynchronously with {fulfil_queries} round trips of its own, counted from the reference code",
               "the workers' fulfilment is asynchronous work: it loads the workers, the broker, the database and the host, not the response time",
               "the broker's CPU per order (append, read by the consumer group, acknowledgement) is one demand",
               "the api and every worker are one asyncio thread per replica: one core in the model; a worker fulfils one event at a time",
               "Redis is one thread: one core and one command at a time"],
    )
    container_tiers = {c.name: ("db" if c.role == "postgres" else "api" if c.role in ("api", "gateway") else c.role) for c in plan.containers}
    return Deployed(structure, container_tiers, CPU_HEADER if plan.entry.role == "api" else UPSTREAM_CPU_HEADER)


def space_based(plan: topologies.Topology, mix: dict[str, float]) -> Deployed:
    """Space-based: processing ``unit`` replicas serve every request from an in-memory replica of
    the data (no database on the response path); every committed write is published to the Redis
    stream, and the ``pump`` writes it to PostgreSQL off the response path.

    A request is one operation at the unit. Each committed transaction is one change: add to cart
    1, placing an order 6 (create the order, clear the cart, reserve, charge, confirm, notify),
    browse and order status none. A change is asynchronous work all the way: the request hands it
    to the broker (``broker.change``: the unit's publisher task ``XADD``s it, Redis stores it and
    serves it to the pump and to the units' replicators), which gives the unit its off-path CPU
    per change (``unit.change``: serialising and publishing it, reading it back from the stream)
    and the pump its write (``pump.write``, one ``db.query`` per change: the pump batches up to 500
    changes per transaction, so BEGIN and COMMIT are shared). The unit's per-change CPU is called
    from the broker, not from the request, so that the changes of one order reach the unit one
    after another (as from the one publisher task), not as a burst.
    """
    units = [c for c in plan.containers if c.role == "unit"]
    pump = next(c for c in plan.containers if c.role == "pump")
    tiers = {"unit": Tier("unit", len(units), 1, APP_CONCURRENCY, units[0].cpus),
             "broker": _broker(plan),
             "pump": Tier("pump", 1, 1, 1, pump.cpus),
             "db": Tier("db", 1, _database(plan, 1).cores, 1, _database(plan, 1).cpu_limit)}  # the pump's one transaction at a time
    publish: Operation = ("unit", "change")
    change: Operation = ("broker", "change")
    write: Operation = ("pump", "write")
    query: Operation = ("db", "query")
    changes = {"browse": 0, "add_to_cart": 1, "place_order": 6, "order_status": 0}
    downstream = {**{("unit", c): (change,) * n for c, n in changes.items()}, change: (publish, write), write: (query,)}
    items = items_per_order(mix)
    work = {("unit", "browse"): {"catalog.item": 1.0}, ("unit", "add_to_cart"): {"cart.add": 1.0},
            ("unit", "order_status"): {"orders.status": 1.0}, publish: {}, change: {}, write: {},
            ("unit", "place_order"): {"cart.items": 1.0, "catalog.item": items, "cart.clear": 1.0, **{w: 1.0 for w in PLACE_ORDER_OWN}}}
    structure = from_calls(
        "space-based", tiers, {c: (("unit", c),) for c in changes}, downstream, work=work, asynchronous={change, publish, write},
        notes=["every request is served by a processing unit from its in-memory replica: no database round trip on the response path",
               f"committed changes per class (one per transaction, counted from the reference code): {changes}",
               ("publishing a change and reading it back (unit), storing and serving it (broker), and writing it behind (pump, database) "
                "are asynchronous work: they load those tiers and the host, not the response time"),
               "the pump writes one batch at a time, one database round trip per change (batch BEGIN/COMMIT shared)",
               "every unit and the pump are one asyncio thread: one core in the model; Redis is one thread: one core"],
    )
    container_tiers = {c.name: ("db" if c.role == "postgres" else "unit" if c.role in ("unit", "gateway") else c.role) for c in plan.containers}
    return Deployed(structure, container_tiers, CPU_HEADER if plan.entry.role == "unit" else UPSTREAM_CPU_HEADER)


STRUCTURES: dict[str, Callable[[topologies.Topology, dict[str, float]], Deployed]] = {
    "monolith": monolith,
    "microkernel": microkernel,
    "service-based": service_based,
    "microservices": microservices,
    "event-driven": event_driven,
    "space-based": space_based,
}  #: Style -> the builder of its calibration structure.


def deployed(style: str, plan: topologies.Topology, mix: dict[str, float]) -> Deployed:
    """The calibration structure of ``plan``, a deployment of ``style``."""
    builder = STRUCTURES.get(style)
    if builder is None:
        raise ArchsimError(f"calibrate {style}: no calibration structure for this style yet (tiers and round trips per class); "
                           f"calibrated styles: {', '.join(STRUCTURES)}")
    return builder(plan, mix)
