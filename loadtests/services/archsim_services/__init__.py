"""The reference shop: one small application deployed in six architecture styles.

The business operations (browse the catalog, add to a cart, place an order with inventory
reservation, payment and notification, read an order's status) are written once in
:mod:`.domain`; each style module wires the same capabilities differently:

- :mod:`.monolith`: every capability in one process over one shared PostgreSQL database;
- :mod:`.microservices`: one HTTP service per capability, each with its own database;
- :mod:`.event_driven`: order placement publishes to Redis Streams, workers fulfil it;
- :mod:`.space_based`: processing units with in-memory replicas kept in step through the broker,
  and a data pump writing to PostgreSQL asynchronously;
- :mod:`.service_based`: coarse domain services (storefront, ordering) over one shared database,
  calling each other over HTTP only across domains;
- :mod:`.microkernel`: a core system with inventory, payments and notifications as plug-ins
  called through a registry and a message contract (:mod:`.plugins`).
"""
