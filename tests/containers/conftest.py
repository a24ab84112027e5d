"""Fixtures for the container tests: a working engine, the images built once per session, and a
project namespace of their own per test, so they never touch another deployment on the machine
(a user's, or another helper's) and every port they publish is chosen free at run time.
"""

from __future__ import annotations

import itertools
import os
import shutil

import pytest

from simulator.deploy import images, lifecycle
from simulator.deploy.engine import ENGINES, Engine, detect
from simulator.errors import EnvironmentProblem

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def engine() -> Engine:
    if not any(shutil.which(name) for name in ENGINES):
        pytest.skip("no container engine: neither podman nor docker is on PATH (bash loadtests/ci/setup-containers.sh installs Podman)")
    try:
        return detect("auto")
    except EnvironmentProblem as problem:
        pytest.skip(f"no working container engine: {problem}")


@pytest.fixture(scope="session")
def built(engine: Engine) -> dict[str, float]:
    """Build every image that is missing (all of them on a fresh machine); return build seconds."""
    return images.build_all(engine, log=print)


@pytest.fixture
def project(engine: Engine) -> str:
    """A project name no one else uses (``t<pid>-<n>``); whatever the test leaves in it is removed afterwards."""
    name = f"t{os.getpid()}-{next(_numbers)}"
    yield name
    lifecycle.down(engine, name)
