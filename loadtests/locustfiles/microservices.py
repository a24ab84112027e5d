"""Load for the microservices deployment. Microservices: a gateway routing to one service per capability, each with its own database.

Run by hand::

    archsim deploy up microservices
    locust -f loadtests/locustfiles/microservices.py --host http://127.0.0.1:18080
    ARCHSIM_RATE=50 locust -f loadtests/locustfiles/microservices.py --host http://127.0.0.1:18080 \
        --headless -u 20 -r 20 -t 60s --csv results/microservices   # open model, 50 requests/s
"""

from shop import ShopUser


class MicroservicesShopper(ShopUser):
    order_accepted = (201,)
