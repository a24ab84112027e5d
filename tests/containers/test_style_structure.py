"""Service-based and microkernel are built the way the simulator models them, not only answering.

- Service-based: placing an order at ``ordering`` reads the cart and the catalog from
  ``storefront`` over HTTP (the cross-domain calls of ``simulator/scenario/styles/service_based.py``) and
  reserves, charges and notifies in-process; both use one database.
- Microkernel: one core process whose inventory, payments and notifications are plug-ins,
  each called once per order through the registry.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from simulator.deploy import lifecycle

pytestmark = pytest.mark.containers


def call(url: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def metrics(engine, container: str) -> dict:
    answer = lifecycle.get_inside(engine, container, "/metrics?format=json")
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def place_orders(url: str, count: int) -> list[dict]:
    orders = []
    for i in range(count):
        call(f"{url}/carts/structure-{i}/items", "POST", {"product_id": 11 + i, "quantity": 2})
        orders.append(call(f"{url}/carts/structure-{i}/order", "POST"))
    return orders


def test_service_based_ordering_calls_storefront_across_domains_only(engine, built, project):
    url = lifecycle.up(engine, "service-based", project=project, timeout_s=120)
    try:
        orders = place_orders(url, 3)
        storefront = metrics(engine, f"{project}-service-based-storefront-1")["operations"]
        ordering = metrics(engine, f"{project}-service-based-ordering-1")["operations"]
        databases = {engine.call("exec", f"{project}-service-based-{d}-1", "python3", "-c",
                                 "import os; print(os.environ['ARCHSIM_DATABASE_URL'].rsplit('@', 1)[1])").stdout.strip()
                     for d in ("storefront", "ordering")}
    finally:
        lifecycle.down(engine, project)
    assert [o["status"] for o in orders] == ["confirmed"] * 3
    assert {name: storefront[name]["requests"] for name in ("add_to_cart", "cart_items", "cart_clear", "browse")} == \
        {"add_to_cart": 3, "cart_items": 3, "cart_clear": 3, "browse": 3}  # one catalog read per order line
    assert set(ordering) == {"place_order"} and ordering["place_order"]["requests"] == 3
    assert len(databases) == 1  # one shared database


def test_microkernel_calls_each_plugin_once_per_order_through_the_registry(engine, built, project):
    url = lifecycle.up(engine, "microkernel", project=project, timeout_s=120)
    try:
        orders = place_orders(url, 4)
        plugins = call(f"{url}/plugins")
    finally:
        lifecycle.down(engine, project)
    assert [o["status"] for o in orders] == ["confirmed"] * 4
    assert sorted(plugins["loaded"]) == ["inventory", "notifications", "payments"]
    assert plugins["calls"] == {"inventory.reserve": 4, "payments.charge": 4, "notifications.send": 4}
