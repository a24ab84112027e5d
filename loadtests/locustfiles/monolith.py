"""Load for the monolith deployment. Monolith: one process (or replicas behind a gateway) over one PostgreSQL database.

Run by hand::

    archsim deploy up monolith
    locust -f loadtests/locustfiles/monolith.py --host http://127.0.0.1:18080
    ARCHSIM_RATE=50 locust -f loadtests/locustfiles/monolith.py --host http://127.0.0.1:18080 \
        --headless -u 20 -r 20 -t 60s --csv results/monolith   # open model, 50 requests/s
"""

from shop import ShopUser


class MonolithShopper(ShopUser):
    order_accepted = (201,)
