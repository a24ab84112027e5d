"""Load for the service-based deployment. Service-based: storefront and ordering domain services over one shared PostgreSQL database, behind a routing gateway.

Run by hand (``archsim deploy up`` prints the URL; the port is chosen free)::

    archsim deploy up service-based
    locust -f loadtests/locustfiles/service_based.py --host http://127.0.0.1:PORT
    ARCHSIM_RATE=50 locust -f loadtests/locustfiles/service_based.py --host http://127.0.0.1:PORT \
        --headless -u 20 -r 20 -t 60s --csv results/service_based   # open model, 50 requests/s
"""

from shop import ShopUser


class ServiceBasedShopper(ShopUser):
    order_accepted = (201,)
