"""Build the images: a builder (pulled, or made locally with debootstrap), then base, app, postgres, broker.

The builder is a full Debian 12 with Python, apt and binutils; it is only ever a build stage.
Without a reachable registry nothing can be pulled, so it is made by ``debootstrap
--variant=minbase --include=python3,binutils`` and imported into the engine. Every image a
deployment runs is a multi-stage build whose last stage starts FROM scratch (or FROM the slim
``base``) and receives only the files it runs and the shared libraries they load (see
``loadtests/images/slim/`` and docs/harness.md): no package manager, no pip, no compiler.
:data:`BUDGETS_MB` are the sizes they must stay within.

Python dependencies are downloaded on the host into a wheelhouse for the image's Python (CPython
3.11, manylinux), because ``pip`` inside a build may not reach the package index. Images that
already exist are kept unless ``rebuild`` is asked for.
"""

from __future__ import annotations

import hashlib
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

BUILDER_IMAGE = "localhost/archsim-builder:bookworm"  #: Build stages only: full Debian, Python, apt, binutils.
BASE_IMAGE = "localhost/archsim-base:bookworm"  #: The slim Python runtime the app image starts FROM.
PULLABLE_BUILDER = "docker.io/library/python:3.11-slim-bookworm"  #: Used as the builder when a registry is reachable.
PROBE_IMAGE = "localhost/archsim-probe:latest"  #: The tiny HTTP responder ``archsim probe startup`` starts.
BUILDER_PACKAGES = "python3,binutils"  #: What debootstrap adds to minbase for the builder.
DEBIAN_MIRROR = "http://deb.debian.org/debian"
IMAGE_PYTHON = "3.11"  #: Python of the base image; the wheelhouse is downloaded for it.


RECIPE_LABEL = "archsim.recipe"  #: Digest of the files an image was built from: a changed recipe rebuilds it.


@dataclass(frozen=True)
class ImageRecipe:
    tag: str
    containerfile: str  #: Relative to the loadtests folder, which is also the build context.
    needs_wheelhouse: bool = False
    inputs: tuple[str, ...] = ()  #: Other files and folders (relative to loadtests/) the image is made of.
    starts_from: str = ""  #: Tag of another of our images it is built FROM (its recipe is part of this one's).
    squash: bool = False  #: One layer, shared with no other image (so removing it really removes its files).


RECIPES = (
    ImageRecipe(BASE_IMAGE, "images/base/Containerfile", inputs=("images/slim",)),
    ImageRecipe(APP_IMAGE, "images/app/Containerfile", needs_wheelhouse=True,
                inputs=("services/archsim_services", "services/requirements.txt"), starts_from=BASE_IMAGE),
    ImageRecipe(POSTGRES_IMAGE, "images/postgres/Containerfile", inputs=("images/slim",)),
    ImageRecipe(BROKER_IMAGE, "images/broker/Containerfile", inputs=("images/slim",)),
    ImageRecipe(PROBE_IMAGE, "images/probe/Containerfile", starts_from=BASE_IMAGE, squash=True),
)  #: The images a deployment runs, in build order (the app starts FROM the base).

BUDGETS_MB = {
    BASE_IMAGE: 50.0,
    APP_IMAGE: 60.0,
    POSTGRES_IMAGE: 85.0,
    BROKER_IMAGE: 20.0,
    PROBE_IMAGE: 30.0,
}  #: Largest size each image may have (MB, ``podman image inspect``); a test holds them to it.


def loadtests_dir() -> Path:
    """The ``loadtests/`` folder (``ARCHSIM_LOADTESTS_DIR``, else the one beside this package)."""
    configured = os.environ.get("ARCHSIM_LOADTESTS_DIR")
    folder = Path(configured) if configured else Path(__file__).resolve().parents[2] / "loadtests"
    if not (folder / "images").is_dir():
        raise EnvironmentProblem(f"no loadtests/images folder at {folder}: run from an archsim checkout or set ARCHSIM_LOADTESTS_DIR")
    return folder


def exists(engine: Engine, tag: str) -> bool:
    return engine.call("image", "inspect", tag, check=False).returncode == 0


def recipe_digest(folder: Path, recipe: ImageRecipe) -> str:
    """SHA-256 (16 hex digits) over the recipe's folder, its inputs and the recipe of the image it starts from."""
    digest = hashlib.sha256()
    for entry in (str(Path(recipe.containerfile).parent), *recipe.inputs):
        root = folder / entry
        for path in sorted([root] if root.is_file() else (p for p in root.rglob("*") if p.is_file())):
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    if recipe.starts_from:
        digest.update(recipe_digest(folder, next(r for r in RECIPES if r.tag == recipe.starts_from)).encode())
    return digest.hexdigest()[:16]


def current(engine: Engine, folder: Path, recipe: ImageRecipe) -> bool:
    """True when the image exists and was built from the recipe as it is now."""
    done = engine.call("image", "inspect", "--format", f'{{{{index .Labels "{RECIPE_LABEL}"}}}}', recipe.tag, check=False)
    return done.returncode == 0 and done.stdout.strip() == recipe_digest(folder, recipe)


def size_mb(engine: Engine, tag: str) -> float | None:
    done = engine.call("image", "inspect", "--format", "{{.Size}}", tag, check=False)
    return int(done.stdout.strip()) / 1e6 if done.returncode == 0 and done.stdout.strip().isdigit() else None


def sizes_mb(engine: Engine) -> dict[str, float | None]:
    """Size of each of our images, in MB (None when not built); the builder first."""
    return {tag: size_mb(engine, tag) for tag in (BUILDER_IMAGE, *(r.tag for r in RECIPES))}


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


def build_builder(engine: Engine, source: str, log) -> None:
    """Pull the builder (``source`` ``pull``), make it with debootstrap (``debootstrap``), or try both (``auto``)."""
    if source in ("auto", "pull"):
        done = engine.call("pull", "--quiet", PULLABLE_BUILDER, check=False, timeout_s=300)
        if done.returncode == 0:
            engine.call("tag", PULLABLE_BUILDER, BUILDER_IMAGE)
            log(f"builder image pulled: {PULLABLE_BUILDER}")
            return
        if source == "pull":
            raise EnvironmentProblem(f"could not pull {PULLABLE_BUILDER}: no registry reachable? use --base debootstrap")
        log("no registry reachable: making the builder image with debootstrap (about a minute)")
    if not shutil.which("debootstrap"):
        raise EnvironmentProblem("debootstrap is needed to make the builder image offline: apt-get install debootstrap (or bash loadtests/ci/setup-containers.sh)")
    if os.geteuid() != 0:
        raise EnvironmentProblem("making the builder image with debootstrap needs root: run as root, or where a registry is reachable use --base pull")
    with tempfile.TemporaryDirectory(prefix="archsim-rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        done = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={BUILDER_PACKAGES}", "bookworm", str(rootfs), DEBIAN_MIRROR],
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
                        "--change", f"LABEL {IMAGE_LABEL}", "-", BUILDER_IMAGE),
            stdin=tar.stdout, capture_output=True, text=True,
        )
        tar.wait()
        if imported.returncode != 0:
            raise EnvironmentProblem(f"importing the builder image failed: {imported.stderr.strip()[-200:]}")


def build_all(engine: Engine, *, base_source: str = "auto", rebuild: bool = False, log=print) -> dict[str, float]:
    """Build whatever is missing or out of date (everything with ``rebuild``); return build seconds per image."""
    folder = loadtests_dir()
    seconds: dict[str, float] = {}
    missing = [r for r in RECIPES if rebuild or not current(engine, folder, r)]
    if not missing:
        return seconds
    if rebuild or not exists(engine, BUILDER_IMAGE):
        started = time.monotonic()
        build_builder(engine, base_source, log)
        seconds[BUILDER_IMAGE] = time.monotonic() - started
    logs = folder / "build" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for recipe in RECIPES:
        if recipe not in missing:
            continue
        if recipe.needs_wheelhouse:
            build_wheelhouse(folder, log)
        log(f"building {recipe.tag}")
        started = time.monotonic()
        argv = engine.build_argv(tag=recipe.tag, containerfile=str(folder / recipe.containerfile), context=str(folder),
                                 build_args={"BUILDER_IMAGE": BUILDER_IMAGE, "BASE_IMAGE": BASE_IMAGE},
                                 labels={RECIPE_LABEL: recipe_digest(folder, recipe)}, squash=recipe.squash)
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
