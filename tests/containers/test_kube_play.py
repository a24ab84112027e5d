"""The generated Kubernetes manifests, applied with ``podman kube play``, serve a real load test.

``archsim deploy manifests`` writes the monolith with 2 replicas (PostgreSQL, two monolith pods,
the gateway); :func:`simulator.deploy.kubeplay.for_podman` adapts it to what Podman plays (see its
docstring: Services ignored, names prefixed, hostPort on a free port). The play runs on its own
network, answers a 20 s open-model load test at 20 requests/s without a failed request, both
monolith pods serve part of it, and ``podman kube down`` removes every pod, even when the test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from simulator.deploy import kubeplay, lifecycle, manifests
from simulator.deploy.rollout import BROWSE_HTTP
from simulator.loadtest import run_load_test

pytestmark = pytest.mark.containers

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def played(engine, built, tmp_path):
    """The monolith manifests played on a network of their own; yields (URL, prefix); always torn down."""
    if engine.name != "podman":
        pytest.skip("kube play is a Podman command")
    if not shutil.which("catatonit"):
        pytest.skip("podman kube play needs catatonit for its pause container (apt-get install catatonit)")
    written = manifests.write_all(tmp_path / "manifests", replicas=2)
    manifest = next(p for p in written if p.name == "monolith.k8s.yaml")
    prefix = f"k{os.getpid()}"
    port = lifecycle.free_port()
    play = tmp_path / "monolith.play.yaml"
    play.write_text(kubeplay.for_podman(manifest.read_text(), prefix, entry="gateway", host_port=port))
    network = f"{prefix}-net"
    engine.call("network", "create", network)
    try:
        engine.call("kube", "play", "--network", network, str(play), timeout_s=300)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while not lifecycle.healthy(url):
            assert time.monotonic() < deadline, engine.call("pod", "ps", check=False).stdout
            time.sleep(1)
        yield url, prefix
    finally:
        engine.call("kube", "down", str(play), check=False, timeout_s=300)
        engine.call("network", "rm", "--force", network, check=False)
        assert [line for line in engine.lines("pod", "ps", "--quiet", "--filter", f"name={prefix}-")] == []


def requests_served(engine, container: str) -> int:
    answer = lifecycle.get_inside(engine, container, "/metrics?format=json")
    assert answer.returncode == 0, answer.stderr
    return sum(op["requests"] for op in json.loads(answer.stdout)["operations"].values())


def test_played_manifests_serve_a_load_test_through_the_gateway(engine, played, tmp_path):
    url, prefix = played
    with urllib.request.urlopen(url + "/catalog/7", timeout=10) as answer:
        assert answer.status == 200 and json.loads(answer.read())["id"] == 7

    run = run_load_test(REPO / "scenarios" / "rolling-update.yaml", url, variant="kube-play", rate_per_s=20,
                        duration_s=20, warmup_s=2, sets=[BROWSE_HTTP], out=tmp_path / "measured", allow_late=True)

    overall = run.block["overall"]
    assert overall["requests"]["mean"] > 0.7 * 20 * 18  # Poisson arrivals: 360 expected, 252 is > 5 sd below
    assert overall["errors"]["mean"] == 0
    served = [requests_served(engine, f"{prefix}-monolith-pod-{i}-monolith") for i in (0, 1)]
    assert min(served) > 0.3 * sum(served)  # round-robin: each pod carries about half
