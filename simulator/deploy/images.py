"""Build the images: a base (pulled, or made locally with debootstrap), then app, postgres, broker.

Without a reachable registry nothing can be pulled, so the base is Debian 12 made by
``debootstrap --variant=minbase --include=python3`` and imported into the engine. Python
dependencies are downloaded on the host into a wheelhouse for the image's Python (CPython 3.11,
manylinux), because ``pip`` inside a build may not reach the package index. Images that already
exist are kept unless ``rebuild`` is asked for.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import EnvironmentProblem

from .engine import Engine
from .project import IMAGE_LABEL
from .topology import APP_IMAGE, BROKER_IMAGE, POSTGRES_IMAGE

BASE_IMAGE = "localhost/archsim-base:bookworm"  #: What every Containerfile builds FROM.
PULLABLE_BASE = "docker.io/library/python:3.11-slim-bookworm"  #: Used when a registry is reachable.
DEBIAN_MIRROR = "http://deb.debian.org/debian"
IMAGE_PYTHON = "3.11"  #: Python of the base image; the wheelhouse is downloaded for it.


@dataclass(frozen=True)
class ImageRecipe:
    tag: str
    containerfile: str  #: Relative to the loadtests folder, which is also the build context.
    needs_wheelhouse: bool = False


RECIPES = (
    ImageRecipe(APP_IMAGE, "images/app/Containerfile", needs_wheelhouse=True),
    ImageRecipe(POSTGRES_IMAGE, "images/postgres/Containerfile"),
    ImageRecipe(BROKER_IMAGE, "images/broker/Containerfile"),
)  #: The images a deployment runs.


def loadtests_dir() -> Path:
    """The ``loadtests/`` folder (``ARCHSIM_LOADTESTS_DIR``, else the one beside this package)."""
    configured = os.environ.get("ARCHSIM_LOADTESTS_DIR")
    folder = Path(configured) if configured else Path(__file__).resolve().parents[2] / "loadtests"
    if not (folder / "images").is_dir():
        raise EnvironmentProblem(f"no loadtests/images folder at {folder}: run from an archsim checkout or set ARCHSIM_LOADTESTS_DIR")
    return folder


def exists(engine: Engine, tag: str) -> bool:
    return engine.call("image", "inspect", tag, check=False).returncode == 0


def size_mb(engine: Engine, tag: str) -> float | None:
    done = engine.call("image", "inspect", "--format", "{{.Size}}", tag, check=False)
    return int(done.stdout.strip()) / 1e6 if done.returncode == 0 and done.stdout.strip().isdigit() else None


def sizes_mb(engine: Engine) -> dict[str, float | None]:
    """Size of each of our images, in MB (None when not built)."""
    return {tag: size_mb(engine, tag) for tag in (BASE_IMAGE, *(r.tag for r in RECIPES))}


def wheelhouse_argv(requirements: Path, wheelhouse: Path) -> list[str]:
    """``pip download`` of binary wheels for the image's Python and machine, whatever the host's."""
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine())
    platforms = [f"manylinux_2_28_{machine}", f"manylinux_2_17_{machine}", f"manylinux2014_{machine}",
                 f"manylinux_2_5_{machine}", f"manylinux1_{machine}", "any"]
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--only-binary=:all:", "--python-version", IMAGE_PYTHON, "--implementation", "cp",
            "--abi", "cp" + IMAGE_PYTHON.replace(".", "")]
    for tag in platforms:
        argv += ["--platform", tag]
    return argv + ["--dest", str(wheelhouse), "--requirement", str(requirements), "pip"]


def build_wheelhouse(folder: Path, log) -> Path:
    wheelhouse = folder / "build" / "wheelhouse"
    requirements = folder / "services" / "requirements.txt"
    stamp = wheelhouse / ".requirements"
    if stamp.is_file() and stamp.read_text() == requirements.read_text():
        return wheelhouse
    log("downloading Python wheels for the app image into loadtests/build/wheelhouse")
    shutil.rmtree(wheelhouse, ignore_errors=True)
    wheelhouse.mkdir(parents=True)
    done = subprocess.run(wheelhouse_argv(requirements, wheelhouse), capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentProblem(f"could not download the services' wheels ({last}): check that pip reaches the package index")
    stamp.write_text(requirements.read_text())
    return wheelhouse


def build_base(engine: Engine, source: str, log) -> None:
    """Pull the base (``source`` ``pull``), make it with debootstrap (``debootstrap``), or try both (``auto``)."""
    if source in ("auto", "pull"):
        done = engine.call("pull", "--quiet", PULLABLE_BASE, check=False, timeout_s=300)
        if done.returncode == 0:
            engine.call("tag", PULLABLE_BASE, BASE_IMAGE)
            log(f"base image pulled: {PULLABLE_BASE}")
            return
        if source == "pull":
            raise EnvironmentProblem(f"could not pull {PULLABLE_BASE}: no registry reachable? use --base debootstrap")
        log("no registry reachable: making the base image with debootstrap (about a minute)")
    if not shutil.which("debootstrap"):
        raise EnvironmentProblem("debootstrap is needed to make the base image offline: apt-get install debootstrap (or bash loadtests/ci/setup-containers.sh)")
    if os.geteuid() != 0:
        raise EnvironmentProblem("making the base image with debootstrap needs root: run as root, or where a registry is reachable use --base pull")
    with tempfile.TemporaryDirectory(prefix="archsim-rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        done = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3", "bookworm", str(rootfs), DEBIAN_MIRROR],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            last = (done.stdout.strip().splitlines() or ["no output"])[-1]
            raise EnvironmentProblem(f"debootstrap failed ({last}): check that {DEBIAN_MIRROR} is reachable")
        for clutter in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale"):
            for path in (rootfs / clutter).glob("*"):
                if path.is_file() or path.is_symlink():
                    path.unlink()
                elif path.is_dir() and path.name != "partial":
                    shutil.rmtree(path)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            engine.argv("import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "--change", f"LABEL {IMAGE_LABEL}", "-", BASE_IMAGE),
            stdin=tar.stdout, capture_output=True, text=True,
        )
        tar.wait()
        if imported.returncode != 0:
            raise EnvironmentProblem(f"importing the base image failed: {imported.stderr.strip()[-200:]}")


def build_all(engine: Engine, *, base_source: str = "auto", rebuild: bool = False, log=print) -> dict[str, float]:
    """Build whatever is missing (everything with ``rebuild``); return build seconds per image."""
    folder = loadtests_dir()
    seconds: dict[str, float] = {}
    if rebuild or not exists(engine, BASE_IMAGE):
        started = time.monotonic()
        build_base(engine, base_source, log)
        seconds[BASE_IMAGE] = time.monotonic() - started
    logs = folder / "build" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for recipe in RECIPES:
        if not rebuild and exists(engine, recipe.tag):
            continue
        if recipe.needs_wheelhouse:
            build_wheelhouse(folder, log)
        log(f"building {recipe.tag}")
        started = time.monotonic()
        argv = engine.build_argv(tag=recipe.tag, containerfile=str(folder / recipe.containerfile), context=str(folder),
                                 build_args={"BASE_IMAGE": BASE_IMAGE})
        log_path = logs / (recipe.tag.split("/")[-1].replace(":", "_") + ".log")
        with open(log_path, "w") as out:
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            tail = log_path.read_text().strip().splitlines()
            raise EnvironmentProblem(
                f"building {recipe.tag} failed ({tail[-1][:160] if tail else 'no output'}): full log in {log_path}"
            )
        seconds[recipe.tag] = time.monotonic() - started
    engine.call("image", "prune", "--force", "--filter", f"label={IMAGE_LABEL}", check=False)  # our dangling layers
    return seconds
