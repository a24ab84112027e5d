"""Rolling updates of a 3-replica monolith behind its gateway, on real containers.

- Under a load test, a rollout to v2 ends with every replica on v2, answers carrying
  ``X-Archsim-Version: v2``, three replicas serving at every step and no failed request (the
  gateway only ever routes to ready replicas, and an old one leaves its routes before it stops).
- A release that never passes readiness is stopped at its first replica and rolled back: all three
  old replicas still serve and the project's state still names the old image.
- ``pause_after`` stops half-way; the same rollout again resumes it; ``rollback`` returns to the
  image before it.

Every container is removed by the ``project`` fixture (they all carry the project's label).
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from simulator.deploy import lifecycle, rollout as rollouts
from simulator.deploy.topology import APP_IMAGE

pytestmark = pytest.mark.containers

REPO = Path(__file__).resolve().parents[2]
V2 = rollouts.release_tag("v2")
BAD = rollouts.release_tag("bad")


@pytest.fixture(scope="module")
def releases(engine, built) -> None:
    rollouts.build_release(engine, "v2")
    rollouts.build_release(engine, "bad", fails_readiness=True)


@pytest.fixture
def monolith(engine, releases, project, tmp_path, monkeypatch) -> str:
    """A 3-replica monolith in the test's project (state file in tmp_path); its URL."""
    monkeypatch.setenv(rollouts.STATE_ENV, str(tmp_path / "state"))
    return lifecycle.up(engine, "monolith", replicas=3, project=project, timeout_s=180)


def images_of(engine, project) -> Counter:
    return Counter(r.image for r in rollouts.replicas(engine, "monolith", project))


def versions_answering(url: str, requests: int = 12) -> Counter:
    seen = Counter()
    for _ in range(requests):
        with urllib.request.urlopen(url + "/catalog/1", timeout=10) as answer:
            assert answer.status == 200
            seen[answer.headers.get("X-Archsim-Version", "none")] += 1
    return seen


def test_rollout_under_load_replaces_every_replica_without_a_failed_request(engine, monolith, project, tmp_path):
    record, run_dir = rollouts.under_load(
        engine, "monolith", V2, REPO / "scenarios" / "rolling-update.yaml", project=project, rate_per_s=30,
        duration_s=45, warmup_s=5, out=tmp_path / "measured", progress_deadline_s=90, drain_s=1.0)

    assert record.outcome == "complete"
    assert images_of(engine, project) == Counter({V2: 3})
    assert versions_answering(monolith) == Counter({"v2": 12})
    assert [s.action for s in record.steps] == ["start", "ready", "remove"] * 3
    assert record.min_serving == {"monolith": 3}  # max_unavailable 0: never fewer than 3 replicas behind the gateway
    assert max(sum(s.replicas_by_image.values()) for s in record.steps) == 4  # max_surge 1
    summary = json.loads((run_dir / "summary.json").read_text())
    block = summary["variants"]["measured-rollout"]
    assert block["overall"]["requests"]["mean"] > 30 * 30  # the load really ran across the rollout
    assert block["overall"]["errors"]["mean"] == 0
    assert block["extras"]["rollout"]["duration_s"]["mean"] == record.duration_s
    assert json.loads((run_dir / "rollout.json").read_text())["outcome"] == "complete"


def test_a_release_that_fails_readiness_is_stopped_and_rolled_back(engine, monolith, project):
    record = rollouts.rollout(engine, "monolith", BAD, project=project, progress_deadline_s=10, drain_s=0.5)

    assert record.outcome == "rolled_back"
    assert [s.action for s in record.steps] == ["start", "not-ready"]
    assert record.min_serving == {"monolith": 3}
    assert images_of(engine, project) == Counter({APP_IMAGE: 3})
    assert versions_answering(monolith) == Counter({"none": 12})  # the original image names no version
    assert rollouts.read_state(project, "monolith") == {}  # a rolled-back rollout records nothing


def test_pause_resume_and_rollback(engine, monolith, project):
    paused = rollouts.rollout(engine, "monolith", V2, project=project, pause_after=1, drain_s=0.5)
    assert paused.outcome == "paused"
    assert images_of(engine, project) == Counter({APP_IMAGE: 2, V2: 1})
    assert set(versions_answering(monolith, 30)) == {"none", "v2"}  # both versions serve while paused

    resumed = rollouts.rollout(engine, "monolith", V2, project=project, drain_s=0.5)
    assert resumed.outcome == "complete" and resumed.from_image == APP_IMAGE
    assert images_of(engine, project) == Counter({V2: 3})

    back = rollouts.rollback(engine, "monolith", project=project, drain_s=0.5)
    assert back.outcome == "complete" and back.to_image == APP_IMAGE
    assert images_of(engine, project) == Counter({APP_IMAGE: 3})
    state = rollouts.read_state(project, "monolith")
    assert (state["image"], state["previous"], state["status"]) == (APP_IMAGE, V2, "complete")
