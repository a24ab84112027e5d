"""The images stay within their size budgets and carry nothing but what they run.

Sizes are what ``podman image inspect`` reports (``.Size``, uncompressed, all layers), against
:data:`simulator.deploy.images.BUDGETS_MB`. The file lists come from ``podman export`` of a
created (never started) container, so every image is checked the same way, shell or not.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import PurePosixPath

import pytest

from simulator.deploy import images
from simulator.deploy.topology import APP_IMAGE, BROKER_IMAGE, POSTGRES_IMAGE

pytestmark = pytest.mark.containers

BUILD_TOOLS = {"pip", "pip3", "apt", "apt-get", "dpkg", "gcc", "cc", "c++", "make", "strip", "ld", "as", "perl", "debootstrap"}


def files_of(engine, tag: str) -> set[str]:
    """Every path in the image's root filesystem (``/usr/bin/python3.11``, ...)."""
    container = engine.call("create", tag).stdout.strip()
    try:
        export = subprocess.Popen(engine.argv("export", container), stdout=subprocess.PIPE)
        with tarfile.open(fileobj=export.stdout, mode="r|") as archive:
            names = {"/" + PurePosixPath(member.name).as_posix().lstrip("./") for member in archive}
        export.wait(timeout=60)
    finally:
        engine.call("rm", "--force", container, check=False)
    return names


@pytest.mark.parametrize("tag", list(images.BUDGETS_MB))
def test_image_is_within_its_size_budget(tag, engine, built):
    size = images.size_mb(engine, tag)
    print(f"{tag}: {size:.1f} MB (budget {images.BUDGETS_MB[tag]:.0f} MB)")
    assert size is not None and size <= images.BUDGETS_MB[tag]


@pytest.mark.parametrize("tag", list(images.BUDGETS_MB))
def test_no_package_manager_pip_or_build_tool_is_in_a_final_image(tag, engine, built):
    names = files_of(engine, tag)
    tools = sorted(n for n in names if PurePosixPath(n).name in BUILD_TOOLS)
    pip = sorted(n for n in names if "/pip/" in n or "/ensurepip/" in n)
    assert tools == [] and pip == []
    assert not any(n.startswith("/var/lib/dpkg") or n.startswith("/usr/share/doc/") for n in names)


def test_the_python_images_hold_no_stdlib_sources_and_no_shell(engine, built):
    for tag in (images.BASE_IMAGE, APP_IMAGE):
        names = files_of(engine, tag)
        assert "/usr/bin/sh" not in names and "/usr/bin/dash" not in names
        assert not [n for n in names if n.startswith("/usr/lib/python3") and n.endswith(".py")]
    done = engine.call("run", "--rm", "--read-only", APP_IMAGE, "--help", check=False)
    assert "usage: python -m archsim_services" in done.stdout + done.stderr
    imported = engine.call("run", "--rm", "--entrypoint", "python3", APP_IMAGE, "-c",
                           "import importlib.util as u; print(u.find_spec('pip'), u.find_spec('setuptools'))")
    assert imported.stdout.split() == ["None", "None"]


def test_postgres_and_broker_keep_the_tools_the_harness_uses(engine, built):
    assert {"/usr/lib/postgresql/15/bin/psql", "/usr/lib/postgresql/15/bin/initdb", "/usr/bin/dash"} <= files_of(engine, POSTGRES_IMAGE)
    assert {"/usr/bin/redis-cli", "/usr/bin/dash"} <= files_of(engine, BROKER_IMAGE)
