"""Load for the space-based deployment. Space-based: processing units with in-memory replicas; a data pump persists to PostgreSQL.

Run by hand::

    archsim deploy up space-based
    locust -f loadtests/locustfiles/space_based.py --host http://127.0.0.1:18080
    ARCHSIM_RATE=50 locust -f loadtests/locustfiles/space_based.py --host http://127.0.0.1:18080 \
        --headless -u 20 -r 20 -t 60s --csv results/space_based   # open model, 50 requests/s
"""

from shop import ShopUser


class SpaceBasedShopper(ShopUser):
    order_accepted = (201,)
