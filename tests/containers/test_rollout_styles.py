"""Rolling updates of every replicated group, on real containers, for microservices and event-driven.

The "new" image is the app image under a second tag (``podman tag``): the rollout tells replicas
apart by the image they were started from (the ``archsim.version`` label), so a tag is enough to
show that every replica was replaced, and no image is built.

- Microservices, 2 replicas of each of the six services, under a load test: every group ends on
  the new tag with 2 replicas, never fewer than 2 serving, no failed request; the called services'
  old replicas were retired until the orders service was rolled, and an order placed afterwards
  succeeds (the new orders replicas reach the new replicas of the services they call).
- Event-driven, 2 API replicas and 2 workers, under a load test: the same for both groups; then a
  pause after the first replaced replica of a rollback, a resume that finishes it, and an order
  that a rolled worker fulfils.

Every container is removed by the ``project`` fixture; each test checks that none is left.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest

from simulator.deploy import lifecycle
from simulator.deploy import rollout as rollouts
from simulator.deploy.topology import APP_IMAGE, CAPABILITIES

pytestmark = pytest.mark.containers

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "scenarios" / "rolling-update.yaml"
RATE_PER_S = 20


@pytest.fixture(scope="module")
def new_tag(engine) -> str:
    """``localhost/archsim-app:rollout-<hex>``: the app image under a second tag, removed afterwards."""
    if engine.call("image", "exists", APP_IMAGE, check=False).returncode != 0:
        pytest.skip(f"{APP_IMAGE} is not built: run 'archsim deploy build'")
    tag = rollouts.release_tag(f"rollout-{uuid.uuid4().hex[:8]}")
    engine.call("tag", APP_IMAGE, tag)
    yield tag
    engine.call("rmi", tag, check=False)  # the tag only, unless APP_IMAGE was rebuilt meanwhile: then the image it kept


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(rollouts.STATE_ENV, str(tmp_path / "state"))
    return tmp_path / "state"


def images_by_group(engine, style: str, project: str) -> dict[str, Counter]:
    found: dict[str, Counter] = {}
    for replica in rollouts.replicas(engine, style, project):
        found.setdefault(replica.group, Counter())[replica.image] += 1
    return found


def call(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as answer:
        return answer.status, json.loads(answer.read() or b"{}")


def place_order(url: str) -> dict:
    cart = f"rollout-{uuid.uuid4().hex[:8]}"
    assert call(f"{url}/carts/{cart}/items", "POST", {"product_id": 3, "quantity": 1})[0] == 200
    status, order = call(f"{url}/carts/{cart}/order", "POST")
    assert status in (201, 202), order
    return order


def assert_rolled_under_load(record, run_dir: Path, replicas: int) -> dict:
    assert record.outcome == "complete"
    assert set(record.min_serving.values()) == {replicas}  # max_unavailable 0: never fewer serving
    summary = json.loads((run_dir / "summary.json").read_text())["variants"]["measured-rollout"]
    assert summary["overall"]["requests"]["mean"] > RATE_PER_S * record.duration_s * 0.8  # the load ran across it
    assert summary["overall"]["errors"]["mean"] == 0
    return summary


def test_microservices_roll_every_service_under_load_without_a_failed_request(engine, new_tag, project, state, tmp_path):
    url = lifecycle.up(engine, "microservices", replicas=2, project=project, timeout_s=240)

    record, run_dir = rollouts.under_load(engine, "microservices", new_tag, SCENARIO, project=project,
                                          rate_per_s=RATE_PER_S, duration_s=50, warmup_s=3, out=tmp_path / "measured",
                                          max_surge=2, progress_deadline_s=90, drain_s=1.0)

    assert_rolled_under_load(record, run_dir, 2)
    assert images_by_group(engine, "microservices", project) == {g: Counter({new_tag: 2}) for g in CAPABILITIES}
    retired = [s.container for s in record.steps if s.action == "retire"]
    assert len(retired) == 10  # the five called services' old replicas, while orders still named them
    assert [s.action for s in record.steps if s.container in retired] == ["retire"] * 10 + ["remove"] * 10
    assert place_order(url)["status"] in ("confirmed", "pending")
    assert rollouts.read_state(project, "microservices")["status"] == "complete"
    print(f"microservices rollout: {record.duration_s:.1f} s, {len(record.steps)} steps")
    assert lifecycle.down(engine, project) == 14 and lifecycle.running(engine, project) == []


def test_event_driven_rolls_api_and_workers_under_load_then_pauses_resumes_and_rolls_back(engine, new_tag, project, state, tmp_path):
    url = lifecycle.up(engine, "event-driven", replicas=2, project=project, timeout_s=240)

    record, run_dir = rollouts.under_load(engine, "event-driven", new_tag, SCENARIO, project=project,
                                          rate_per_s=RATE_PER_S, duration_s=25, warmup_s=3, out=tmp_path / "measured",
                                          progress_deadline_s=90, drain_s=1.0)

    assert_rolled_under_load(record, run_dir, 2)
    assert [(s.group, s.action) for s in record.steps] == \
        [("api", a) for a in ["start", "ready", "remove"] * 2] + [("worker", a) for a in ["start", "ready", "remove"] * 2]
    assert images_by_group(engine, "event-driven", project) == {"api": Counter({new_tag: 2}), "worker": Counter({new_tag: 2})}
    order = place_order(url)
    for _ in range(40):  # a rolled worker takes the event and confirms the order
        if call(f"{url}/orders/{order['order_id']}")[1]["status"] != "pending":
            break
        time.sleep(0.25)
    assert call(f"{url}/orders/{order['order_id']}")[1]["status"] == "confirmed"
    print(f"event-driven rollout: {record.duration_s:.1f} s")

    def pause_after_first_ready(line: str) -> None:
        if " ready " in line:
            rollouts.pause(project, "event-driven")

    paused = rollouts.rollback(engine, "event-driven", project=project, drain_s=0.5, log=pause_after_first_ready)
    assert paused.outcome == "paused"
    assert images_by_group(engine, "event-driven", project) == {"api": Counter({new_tag: 1, APP_IMAGE: 1}),
                                                               "worker": Counter({new_tag: 2})}
    assert rollouts.read_state(project, "event-driven")["status"] == "paused"

    resumed = rollouts.resume(engine, "event-driven", project=project)
    assert resumed.outcome == "complete" and resumed.to_image == APP_IMAGE
    assert images_by_group(engine, "event-driven", project) == {"api": Counter({APP_IMAGE: 2}), "worker": Counter({APP_IMAGE: 2})}
    assert lifecycle.healthy(url)
    assert lifecycle.down(engine, project) == 7 and lifecycle.running(engine, project) == []
