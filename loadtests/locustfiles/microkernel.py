"""Load for the microkernel deployment. Microkernel: a core system with inventory, payments and notifications as plug-ins, over one PostgreSQL database.

Run by hand (``archsim deploy up`` prints the URL; the port is chosen free)::

    archsim deploy up microkernel
    locust -f loadtests/locustfiles/microkernel.py --host http://127.0.0.1:PORT
    ARCHSIM_RATE=50 locust -f loadtests/locustfiles/microkernel.py --host http://127.0.0.1:PORT \
        --headless -u 20 -r 20 -t 60s --csv results/microkernel   # open model, 50 requests/s
"""

from shop import ShopUser


class MicrokernelShopper(ShopUser):
    order_accepted = (201,)
