"""The rolling-update loop of ``archsim deploy rollout``, step by step, against an engine that keeps
containers as a table (the commands are the real ones ``Engine`` builds; the container tests run
the same loop on Podman).

- Every replicated group of a style is rolled, callers last; a called microservice's old replica
  that the orders service still names is retired (out of the routes, still running) and stops
  once the new orders replicas, started with the new names, have replaced the old ones.
- The gateway's routes never name a replica that is not ready, nor one that has stopped.
- ``pause`` stops at a step boundary with the group at its desired count; ``resume`` finishes;
  ``rollback`` returns from a paused state; a release that never gets ready is rolled back.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest

from simulator.deploy import rollout as rollouts
from simulator.deploy import topology as topologies
from simulator.deploy.engine import Engine
from simulator.deploy.project import PROJECT_KEY, ROLE_KEY, STYLE_KEY, URL_KEY

OLD, NEW, BAD = topologies.APP_IMAGE, "localhost/archsim-app:v2", "localhost/archsim-app:bad"


class TableEngine(Engine):
    """Containers in a dict; ``run`` starts one, ``rm`` removes it, ``exec`` probes readiness
    (a container on ``BAD`` never gets ready) or writes the gateway's routes file."""

    def __init__(self, style: str, replicas: int, project: str):
        super().__init__("podman")
        object.__setattr__(self, "containers", {})
        object.__setattr__(self, "routes_written", [])
        object.__setattr__(self, "failing", "")  #: A new replica whose name contains this never gets ready.
        plan = topologies.build(style, replicas, topologies.Secrets("pw", "pw"), project)
        for c in plan.containers:
            labels = {PROJECT_KEY: project, STYLE_KEY: style, ROLE_KEY: c.role}
            if c.entry:
                labels[URL_KEY] = "http://127.0.0.1:1"
            self.containers[c.name] = {"image": c.image, "labels": labels, "env": dict(c.env)}
        object.__setattr__(self, "passed_readiness", set(self.containers))  #: ``up`` waited for these.

    def call(self, *args: str, check: bool = True, timeout_s: float = 120.0):
        out, code = "", 0
        if args[0] == "ps":
            out = "\n".join(self.containers)
        elif args[0] == "inspect":
            out = json.dumps([self._inspect(n) for n in args if n in self.containers])
        elif args[:2] == ("image", "inspect"):
            out = json.dumps([{"Config": {"Env": ["PATH=/usr/bin"]}}])
        elif args[0] == "run":
            name = args[args.index("--name") + 1]
            labels = dict(a.split("=", 1) for a, flag in zip(args[1:], args) if flag == "--label")
            env = dict(a.split("=", 1) for a, flag in zip(args[1:], args) if flag == "--env")
            image = next(a for a in args if a.startswith("localhost/archsim-app"))
            self.containers[name] = {"image": image, "labels": labels, "env": env}
        elif args[0] == "rm":
            for name in args:
                self.containers.pop(name, None)
        elif args[0] == "exec" and "-c" in args and args[args.index("-c") + 1].startswith("import sys; open"):
            self.routes_written.append(args[-1])
            self.check_routes(args[-1])
        elif args[0] == "exec":
            c = self.containers[args[1]]
            code = 1 if c["image"] == BAD or (self.failing and self.failing in args[1] and c["image"] == NEW) else 0
            if code == 0:
                self.passed_readiness.add(args[1])
        return subprocess.CompletedProcess(list(args), code, out, "")

    def lines(self, *args: str) -> list[str]:
        return [line for line in self.call(*args).stdout.splitlines() if line]

    def _inspect(self, name: str) -> dict:
        c = self.containers[name]
        return {"Name": name, "ImageName": c["image"], "State": {"Status": "running"},
                "Config": {"Labels": c["labels"], "Env": [f"{k}={v}" for k, v in c["env"].items()]}}

    def check_routes(self, spec: str) -> None:
        for _, urls in rollouts._parse(spec):
            assert urls, f"a route without upstreams: {spec}"
            for url in urls:
                name = url.split("//")[1].rsplit(":", 1)[0]
                assert name in self.containers and name in self.passed_readiness, spec

    def images(self, prefix: str) -> Counter:
        return Counter(c["image"] for n, c in self.containers.items() if n.startswith(prefix))


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(rollouts.STATE_ENV, str(tmp_path))
    monkeypatch.setattr(rollouts.time, "sleep", lambda s: None)


def roll(engine, style, image=NEW, **options):
    return rollouts.rollout(engine, style, image, project="p", drain_s=0.0, log=lambda line: None, **options)


def test_microservices_roll_callees_first_and_retire_what_orders_still_calls():
    engine = TableEngine("microservices", 2, "p")
    record = roll(engine, "microservices")

    assert record.outcome == "complete"
    assert record.groups == ["catalog", "carts", "inventory", "payments", "notifications", "orders"]
    assert record.routed == ["carts", "catalog", "orders"]
    catalog = [(s.action, s.container.rsplit("-", 1)[1]) for s in record.steps if s.group == "catalog"]
    assert catalog == [("start", "3"), ("ready", "3"), ("retire", "1"), ("start", "4"), ("ready", "4"),
                       ("retire", "2"), ("remove", "1"), ("remove", "2")]  # removed after orders was rolled
    assert [(s.group, s.action) for s in record.steps[-16:-10]] == [("orders", a) for a in ["start", "ready", "remove"] * 2]
    assert [(s.group, s.action) for s in record.steps[-10:]] == [(g, "remove") for g in topologies.CAPABILITIES[:5] for _ in "12"]
    for capability in topologies.CAPABILITIES:
        assert engine.images(f"p-microservices-{capability}-") == Counter({NEW: 2})
    orders_env = engine.containers["p-microservices-orders-4"]["env"]
    assert orders_env["ARCHSIM_CATALOG_URL"] == "http://p-microservices-catalog-3:8080,http://p-microservices-catalog-4:8080"
    assert record.min_serving == {g: 2 for g in record.groups}
    assert rollouts.read_state("p", "microservices")["status"] == "complete"
    assert "retired" not in rollouts.read_state("p", "microservices")


def test_event_driven_rolls_the_api_behind_the_gateway_and_the_workers_by_readiness():
    engine = TableEngine("event-driven", 3, "p")
    record = roll(engine, "event-driven")

    assert [(s.group, s.action) for s in record.steps] == [("api", a) for a in ["start", "ready", "remove"] * 3] + \
        [("worker", a) for a in ["start", "ready", "remove"] * 3]
    assert engine.images("p-event-driven-api-") == Counter({NEW: 3})
    assert engine.images("p-event-driven-worker-") == Counter({NEW: 3})
    assert engine.routes_written[-1] == "/=" + ",".join(f"http://p-event-driven-api-{i}:8080" for i in (4, 5, 6))


def test_pause_stops_at_a_step_boundary_resume_finishes_and_rollback_returns():
    engine = TableEngine("event-driven", 3, "p")
    engine_log = []

    def pause_on_second_ready(line: str) -> None:
        engine_log.append(line)
        if sum(" ready " in entry for entry in engine_log) == 2:
            rollouts.pause("p", "event-driven")

    paused = rollouts.rollout(engine, "event-driven", NEW, project="p", drain_s=0.0, log=pause_on_second_ready)
    assert paused.outcome == "paused"
    assert engine.images("p-event-driven-api-") == Counter({OLD: 1, NEW: 2})
    assert engine.images("p-event-driven-worker-") == Counter({OLD: 3})
    assert rollouts.read_state("p", "event-driven")["status"] == "paused"

    assert roll(engine, "event-driven").outcome == "paused"  # still paused: nothing moves
    resumed = rollouts.resume(engine, "event-driven", project="p", log=lambda line: None)
    assert resumed.outcome == "complete" and resumed.from_image == OLD
    assert engine.images("p-event-driven-worker-") == Counter({NEW: 3})

    rollouts.pause("p", "event-driven")
    back = rollouts.rollback(engine, "event-driven", project="p", drain_s=0.0, log=lambda line: None)
    assert back.outcome == "complete" and back.to_image == OLD
    assert engine.images("p-event-driven-api-") == Counter({OLD: 3})
    assert rollouts.read_state("p", "event-driven")["image"] == OLD
    assert "paused" not in rollouts.read_state("p", "event-driven")


def test_a_release_that_never_gets_ready_is_rolled_back():
    engine = TableEngine("service-based", 2, "p")
    before = dict(engine.containers)
    record = roll(engine, "service-based", BAD, progress_deadline_s=0.0)

    assert record.outcome == "rolled_back"
    assert [(s.group, s.action) for s in record.steps] == [("storefront", "start"), ("storefront", "not-ready")]
    assert set(engine.containers) == set(before)
    assert rollouts.read_state("p", "service-based") == {}


def test_a_caller_that_never_gets_ready_brings_back_the_retired_replicas_it_calls():
    engine = TableEngine("service-based", 2, "p")
    engine.failing = "-ordering-"
    record = roll(engine, "service-based", progress_deadline_s=0.0)

    assert record.outcome == "rolled_back"
    actions = [(s.group, s.action, s.container.rsplit("-", 1)[1]) for s in record.steps]
    assert actions[:6] == [("storefront", "start", "3"), ("storefront", "ready", "3"), ("storefront", "retire", "1"),
                           ("storefront", "start", "4"), ("storefront", "ready", "4"), ("storefront", "retire", "2")]
    assert actions[6:8] == [("ordering", "start", "3"), ("ordering", "not-ready", "3")]
    assert ("storefront", "revive", "1") in actions and ("storefront", "remove", "3") in actions
    assert engine.images("p-service-based-storefront-") == Counter({OLD: 2})
    assert sorted(n for n in engine.containers if "-storefront-" in n) == ["p-service-based-storefront-1", "p-service-based-storefront-2"]


def test_deploy_pause_sets_the_flag_a_rollout_started_later_stops_on():
    from typer.testing import CliRunner

    from simulator.deploy.cli import app

    done = CliRunner().invoke(app, ["pause", "event-driven", "--project", "p"])
    assert done.exit_code == 0, done.output
    assert rollouts.read_state("p", "event-driven") == {"paused": True}

    engine = TableEngine("event-driven", 2, "p")
    record = roll(engine, "event-driven")
    assert record.outcome == "paused" and [s.action for s in record.steps] == ["pause"]
    assert engine.images("p-event-driven-api-") == Counter({OLD: 2})
    assert rollouts.read_state("p", "event-driven")["image"] == NEW  # resume knows where to go
