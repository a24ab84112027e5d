"""Load for the event-driven deployment. Event-driven: orders are accepted (202) and fulfilled by workers reading Redis Streams.

Run by hand::

    archsim deploy up event-driven
    locust -f loadtests/locustfiles/event_driven.py --host http://127.0.0.1:18080
    ARCHSIM_RATE=50 locust -f loadtests/locustfiles/event_driven.py --host http://127.0.0.1:18080 \
        --headless -u 20 -r 20 -t 60s --csv results/event_driven   # open model, 50 requests/s
"""

from shop import ShopUser


class EventDrivenShopper(ShopUser):
    order_accepted = (202,)
