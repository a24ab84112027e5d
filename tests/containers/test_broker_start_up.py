"""A service waits for a broker that does not answer yet instead of exiting.

Seen in CI on a loaded host: the event-driven API's first ``PING`` ended in redis-py's
``TimeoutError: Timeout connecting to server`` (which is not a ``ConnectionError``), the API
exited and the deployment never became ready. Here the real broker image is frozen
(``podman pause``) so that every connection attempt times out, and the services' own
``broker.connect`` runs in the real app image beside it (sharing its network namespace); the
broker is thawed after a few seconds and the client must then be connected, not dead.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from simulator.deploy import project as projects
from simulator.deploy.topology import APP_IMAGE, BROKER_IMAGE

pytestmark = pytest.mark.containers

FROZEN_S = 3.0  #: How long the broker does not answer: several 0.2 s timeouts in a row.

#: The client joins the broker's own network namespace (``--network container:NAME``), private to
#: the two containers and publishing nothing on the host, so the image's fixed port 6379 there
#: cannot be held by another process on this machine.
CLIENT = """
import asyncio, time
from archsim_services import broker
start = time.monotonic()
client = asyncio.run(broker.connect("redis://:secret@127.0.0.1:6379/0?socket_connect_timeout=0.2&socket_timeout=0.2", timeout_s=60))
print(f"connected after {time.monotonic() - start:.2f} s")
"""


def test_a_service_retries_a_broker_that_times_out_until_it_answers(engine, built, project):
    label = projects.label(project)
    name = f"{project}-broker"
    engine.call("run", "--detach", "--name", name, "--label", label, "--env", "ARCHSIM_BROKER_PASSWORD=secret", BROKER_IMAGE)
    engine.call("pause", name)
    client = subprocess.Popen(
        engine.argv("run", "--rm", "--label", label, "--network", f"container:{name}",
                    "--entrypoint", "python3", APP_IMAGE, "-c", CLIENT),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(FROZEN_S)
    still_waiting = client.poll() is None
    engine.call("unpause", name)
    stdout, stderr = client.communicate(timeout=90)
    assert still_waiting, f"the client gave up while the broker was frozen: {stderr.strip().splitlines()[-1:]}"
    assert client.returncode == 0 and stdout.startswith("connected after "), stderr
    assert float(stdout.split()[2]) >= FROZEN_S - 1.0
