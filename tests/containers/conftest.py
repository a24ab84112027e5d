"""Fixtures for the container tests: a working engine, and the images built once per session."""

from __future__ import annotations

import shutil

import pytest

from simulator.deploy import images, lifecycle
from simulator.deploy.engine import ENGINES, Engine, detect
from simulator.errors import EnvironmentProblem


@pytest.fixture(scope="session")
def engine() -> Engine:
    if not any(shutil.which(name) for name in ENGINES):
        pytest.skip("no container engine: neither podman nor docker is on PATH (bash loadtests/ci/setup-containers.sh installs Podman)")
    try:
        found = detect("auto")
    except EnvironmentProblem as problem:
        pytest.skip(f"no working container engine: {problem}")
    lifecycle.down(found)  # a previous crashed run must not make 'up' refuse
    return found


@pytest.fixture(scope="session")
def built(engine: Engine) -> dict[str, float]:
    """Build every image that is missing (all of them on a fresh machine); return build seconds."""
    seconds = images.build_all(engine, log=print)
    yield seconds
    lifecycle.down(engine)
