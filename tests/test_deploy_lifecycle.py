"""Deploy refuses, on one line and leaving nothing behind, when the port is taken or a deployment exists."""

import socket

import pytest

from simulator.deploy import lifecycle
from simulator.errors import EnvironmentProblem


class RecordingEngine:
    """Stands in for podman: answers 'ps' with the given ids and records every other call."""

    name = "podman"

    def __init__(self, existing: list[str]):
        self.existing = existing
        self.calls: list[tuple[str, ...]] = []

    def lines(self, *args):
        return list(self.existing) if args[0] == "ps" else []

    def call(self, *args, **kwargs):
        self.calls.append(args)
        raise AssertionError(f"unexpected engine call {args}")


def test_a_busy_port_is_refused_before_any_container_starts():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        engine = RecordingEngine(existing=[])
        with pytest.raises(EnvironmentProblem, match=f"port {port} on 127.0.0.1 is in use"):
            lifecycle.up(engine, "monolith", port=port)
    assert engine.calls == []


def test_an_existing_deployment_must_be_taken_down_first(monkeypatch):
    monkeypatch.setattr(lifecycle, "running", lambda engine: [lifecycle.Running("c", "monolith", "monolith", "running", "")])
    with pytest.raises(EnvironmentProblem, match="already up \\(monolith\\): run 'archsim deploy down' first"):
        lifecycle.up(RecordingEngine(existing=["c"]), "space-based", port=1)


def test_health_of_nothing_listening_is_false():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert lifecycle.healthy(f"http://127.0.0.1:{port}", timeout_s=0.5) is False
