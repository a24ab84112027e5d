"""Deploy refuses, on one line and leaving nothing behind, when the port is taken or the project is in use;
each project is a namespace of its own, and the entry point's port is chosen free unless given."""

import socket

import pytest

from simulator.deploy import lifecycle, project as projects, topology
from simulator.errors import ArchsimError, EnvironmentProblem


class RecordingEngine:
    """Stands in for podman: answers 'ps' with the given ids and records every other call."""

    name = "podman"

    def __init__(self, existing: list[str]):
        self.existing = existing
        self.calls: list[tuple[str, ...]] = []

    def lines(self, *args):
        self.calls.append(args)
        return list(self.existing) if args[0] in ("ps", "network") else []

    def call(self, *args, **kwargs):
        self.calls.append(args)
        raise AssertionError(f"unexpected engine call {args}")


class StartingEngine(RecordingEngine):
    """Accepts every call; 'run' of a published container fails with 'address already in use' ``busy`` times."""

    def __init__(self, busy: int = 0):
        super().__init__(existing=[])
        self.busy = busy

    def run_argv(self, **kwargs):
        return ["podman", "run", *(["--publish", kwargs["publish"]] if kwargs["publish"] else []), kwargs["name"]]

    def call(self, *args, **kwargs):
        self.calls.append(args)
        failing = args[0] == "run" and "--publish" in args and self.busy > 0
        self.busy -= failing
        return type("Done", (), {"returncode": 1 if failing else 0, "stdout": "",
                                 "stderr": "Error: listen tcp4 127.0.0.1:1: bind: address already in use" if failing else ""})()


def test_a_busy_port_is_refused_before_any_container_starts():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        engine = RecordingEngine(existing=[])
        with pytest.raises(EnvironmentProblem, match=f"port {port} on 127.0.0.1 is in use"):
            lifecycle.up(engine, "monolith", port=port)
    assert [c for c in engine.calls if c[0] != "ps"] == []


def test_a_project_with_a_deployment_must_be_taken_down_first(monkeypatch):
    monkeypatch.setattr(lifecycle, "running", lambda engine, project: [lifecycle.Running("c", "monolith", "monolith", "running", "", project)])
    with pytest.raises(EnvironmentProblem, match="project 'blue' already has a deployment \\(monolith\\): "
                                                 "run 'archsim deploy down --project blue' first, or use another --project"):
        lifecycle.up(RecordingEngine(existing=["c"]), "space-based", project="blue")


def test_down_selects_only_its_own_projects_label():
    engine = RecordingEngine(existing=[])
    assert lifecycle.down(engine, "blue") == 0
    assert engine.calls == [("ps", "--all", "--quiet", "--filter", "label=archsim.project=blue"),
                            ("network", "ls", "--quiet", "--filter", "label=archsim.project=blue")]


class RacingEngine(RecordingEngine):
    """'rm' fails as podman does when a container exits while it is being stopped, ``refusals`` times."""

    def __init__(self, existing: list[str], refusals: int):
        super().__init__(existing)
        self.refusals = refusals

    def remove_argv(self, ids):
        return ["podman", "rm", "--force", "--time", "3", *ids]

    def call(self, *args, check=True, **kwargs):
        self.calls.append(args)
        if args[0] != "rm":
            return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()
        if self.refusals > 0:
            self.refusals -= 1
            self.existing = self.existing[1:]  # the others went; the one exiting stays
            if check:
                raise EnvironmentProblem("'podman rm --force' failed: container state improper: stopped")
            return type("Done", (), {"returncode": 1, "stdout": "", "stderr": "container state improper: stopped"})()
        self.existing = []
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()


def test_down_removes_again_a_container_that_exited_while_it_was_being_stopped():
    engine = RacingEngine(existing=["a", "b", "c"], refusals=1)
    assert lifecycle.down(engine, "blue") == 3
    removals = [c for c in engine.calls if c[0] == "rm"]
    assert removals == [("rm", "--force", "--time", "3", "a", "b", "c"), ("rm", "--force", "--time", "3", "b", "c")]


def test_down_reports_a_removal_that_keeps_failing():
    engine = RacingEngine(existing=["a", "b", "c", "d", "e"], refusals=5)
    with pytest.raises(EnvironmentProblem, match="container state improper"):
        lifecycle.down(engine, "blue")
    assert len([c for c in engine.calls if c[0] == "rm"]) == 3


def test_the_project_comes_from_the_environment_when_not_given(monkeypatch):
    monkeypatch.setenv("ARCHSIM_PROJECT", "green")
    engine = RecordingEngine(existing=[])
    lifecycle.down(engine)
    assert engine.calls[0][-1] == "label=archsim.project=green"
    monkeypatch.delenv("ARCHSIM_PROJECT")
    assert projects.current() == "archsim"


@pytest.mark.parametrize("name", ["Blue", "1st", "a_b", "a--b", "end-", "x" * 31, ""])
def test_names_that_cannot_prefix_a_container_are_refused_on_one_line(name, monkeypatch):
    monkeypatch.delenv("ARCHSIM_PROJECT", raising=False)
    if not name:
        monkeypatch.setenv("ARCHSIM_PROJECT", "Bad Name")
    with pytest.raises(ArchsimError, match="--project / ARCHSIM_PROJECT: expected lower-case letters") as raised:
        projects.current(name or None)
    assert "\n" not in str(raised.value)


def test_the_project_prefixes_every_container_and_the_network():
    plan = topology.build("event-driven", 1, topology.Secrets("d", "b"), "blue")
    assert plan.network == "blue-event-driven"
    assert all(c.name.startswith("blue-event-driven-") for c in plan.containers)
    assert "@blue-event-driven-postgres:5432" in plan.entry.env["ARCHSIM_DATABASE_URL"]


def test_without_a_port_the_entry_point_is_published_on_a_free_one_and_labelled_with_its_url(monkeypatch):
    monkeypatch.setattr(lifecycle, "_wait_ready", lambda *args: None)
    engine = StartingEngine()
    url = lifecycle.up(engine, "monolith", project="blue")
    published = [c for c in engine.calls if c[0] == "run" and "--publish" in c]
    port = int(url.rsplit(":", 1)[1])
    assert url.startswith("http://127.0.0.1:") and published[0][2] == f"127.0.0.1:{port}:8080"
    assert ("network", "create", "--label", "archsim.project=blue", "--label", "archsim.style=monolith", "blue-monolith") in engine.calls


def test_a_port_taken_between_choice_and_publish_is_retried_on_another(monkeypatch):
    monkeypatch.setattr(lifecycle, "_wait_ready", lambda *args: None)
    engine = StartingEngine(busy=2)
    lifecycle.up(engine, "monolith", project="blue")
    assert len([c for c in engine.calls if c[0] == "run" and "--publish" in c]) == 3
    assert [c for c in engine.calls if c[0] == "rm"] == [("rm", "--force", "blue-monolith-monolith-1")] * 2


def test_a_port_given_by_the_user_is_not_replaced_by_another(monkeypatch):
    monkeypatch.setattr(lifecycle, "_wait_ready", lambda *args: None)
    port = lifecycle.free_port()
    with pytest.raises(EnvironmentProblem, match=f"starting blue-monolith-monolith-1 on 127.0.0.1:{port} failed: .*address already in use"):
        lifecycle.up(StartingEngine(busy=1), "monolith", project="blue", port=port)


def test_health_of_nothing_listening_is_false():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert lifecycle.healthy(f"http://127.0.0.1:{port}", timeout_s=0.5) is False
