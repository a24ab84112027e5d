"""The shop's load: the same request classes and mix as the shipped scenarios.

=============  ======  =============================================
request class  weight  request
=============  ======  =============================================
browse         0.60    ``GET /catalog/{product_id}``
add_to_cart    0.25    ``POST /carts/{cart_id}/items``
place_order    0.10    ``POST /carts/{cart_id}/order`` (payment, inventory, notification)
order_status   0.05    ``GET /orders/{order_id}``
=============  ======  =============================================

Locust's request names are these class names, so its ``_stats.csv`` rows line up with the
simulator's per-class rows. An order needs something in the cart: when a user's cart is empty,
``place_order`` first adds an item as a *set-up* request named ``setup: add_to_cart``, which
``archsim loadtest`` counts apart (never as an ``add_to_cart`` of the mix, never in the rates).

Two ways to load:

- closed (default): each user waits an exponential think time (mean ``ARCHSIM_THINK_S``, 0.1 s)
  after each response, as Locust users usually do;
- open: with ``ARCHSIM_RATE`` set (requests per second, all users together), each user's
  requests *start* at Poisson arrival times (exponential inter-arrival gaps, mean
  users / rate), whatever the responses take; run enough users that none falls behind
  (a user that does catches up without waiting).
"""

from __future__ import annotations

import os
import random
import time
import uuid

from locust import FastHttpUser, task

MIX = {"browse": 0.60, "add_to_cart": 0.25, "place_order": 0.10, "order_status": 0.05}  #: Request class -> weight.
PRODUCT_COUNT = 1000  #: Products the services seed (ids 1..1000).
SETUP_ADD_TO_CART = "setup: add_to_cart"  #: The add-to-cart an order needs when the cart is empty.
SEED_ORDER_ID = "seed-order"  #: Exists from the start, for status reads before a user's first order.


def target_rate_per_s() -> float | None:
    raw = os.environ.get("ARCHSIM_RATE")
    return float(raw) if raw else None


class ShopUser(FastHttpUser):
    """One shopper: browses, fills a cart, orders, checks on orders."""

    abstract = True
    order_accepted = (201,)  #: Status codes meaning the order was taken (event-driven adds 202).

    def on_start(self) -> None:
        self.cart_id = uuid.uuid4().hex
        self.items_in_cart = 0
        self.order_ids: list[str] = []
        self.next_arrival_s = time.monotonic()
        self.client_headers = {"X-Client-Id": self.cart_id}  # session affinity where a gateway offers it

    def wait_time(self) -> float:
        rate = target_rate_per_s()
        if rate is None:
            return random.expovariate(1.0 / float(os.environ.get("ARCHSIM_THINK_S", "0.1")))
        users = max(1, self.environment.runner.user_count if self.environment.runner else 1)
        self.next_arrival_s += random.expovariate(rate / users)
        return max(0.0, self.next_arrival_s - time.monotonic())

    @task(12)
    def browse(self) -> None:
        product_id = random.randint(1, PRODUCT_COUNT)
        self.client.get(f"/catalog/{product_id}", name="browse", headers=self.client_headers)

    @task(5)
    def add_to_cart(self) -> None:
        self._add_item("add_to_cart")

    def _add_item(self, request_name: str) -> None:
        body = {"product_id": random.randint(1, PRODUCT_COUNT), "quantity": random.randint(1, 3)}
        with self.client.post(f"/carts/{self.cart_id}/items", json=body, name=request_name,
                              headers=self.client_headers, catch_response=True) as response:
            if response.status_code == 200:
                self.items_in_cart += 1
                response.success()
            else:
                response.failure(f"status {response.status_code}")

    @task(2)
    def place_order(self) -> None:
        if self.items_in_cart == 0:  # an order needs something in the cart: a set-up request, counted apart
            self._add_item(SETUP_ADD_TO_CART)
        with self.client.post(f"/carts/{self.cart_id}/order", name="place_order",
                              headers=self.client_headers, catch_response=True) as response:
            if response.status_code in self.order_accepted:
                self.items_in_cart = 0
                self.order_ids = (self.order_ids + [response.json()["order_id"]])[-20:]
                response.success()
            else:
                response.failure(f"status {response.status_code}: {response.text[:120]}")

    @task(1)
    def order_status(self) -> None:
        order_id = random.choice(self.order_ids) if self.order_ids else SEED_ORDER_ID
        self.client.get(f"/orders/{order_id}", name="order_status", headers=self.client_headers)
