"""A container of the probe image, warm (image present) or cold (image loaded from an archive).

No registry is reachable here, so a cold start's image pull is represented by ``podman load`` of
the image from a local archive (``podman save`` of the built image, kept in
``loadtests/build/probe/``): it writes every layer into the image store as a pull does after the
download, but has no network transfer. The probe image is one squashed layer that no other image
shares, so after ``rmi`` nothing of it is left. ``created`` is when ``create`` returned, and
``started``/``listening`` are the responder's stamps, read from the container's log afterwards
(a container reads the host's wall clock). The container gets the hardening of every archsim
container and is removed after each start-up.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from simulator.deploy import images
from simulator.deploy.engine import Engine
from simulator.deploy.lifecycle import free_port
from simulator.deploy.project import PROJECT_KEY, ROLE_KEY
from simulator.errors import EnvironmentProblem

from .phases import StartUp, first_answer, stamps

PROJECT = "archsim-probe"  #: Project label of the probe's containers (``archsim deploy down --project archsim-probe``).
TIMEOUT_S = 60.0


def ensure_image(engine: Engine, log) -> None:
    """Build the probe image (and what it starts from) if missing or out of date."""
    images.build_all(engine, log=log)


def archive(engine: Engine) -> Path:
    """The probe image saved as an archive (made once per image recipe)."""
    folder = images.loadtests_dir()
    recipe = next(r for r in images.RECIPES if r.tag == images.PROBE_IMAGE)
    path = folder / "build" / "probe" / f"archsim-probe-{images.recipe_digest(folder, recipe)}.tar"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob("archsim-probe-*.tar"):
            stale.unlink()
        engine.call("save", "--quiet", "--output", str(path) + ".part", images.PROBE_IMAGE, timeout_s=300)
        os.replace(str(path) + ".part", path)
    return path


def start_once(engine: Engine, *, cold: bool, saved: Path | None = None) -> StartUp:
    """Start one probe container (after ``rmi`` + ``load`` when ``cold``); wait for its first 200; remove it."""
    port = free_port()
    name = f"archsim-probe-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    startup = StartUp(notes={"engine": engine.name, "image": images.PROBE_IMAGE, "state": "cold" if cold else "warm"})
    if cold:
        if saved is None:
            raise ValueError("a cold start needs the image archive")
        engine.call("rmi", "--force", images.PROBE_IMAGE)
        if images.exists(engine, images.PROBE_IMAGE):
            raise EnvironmentProblem(f"{images.PROBE_IMAGE} is still present after rmi: is a container using it?")
    argv = engine.run_argv(
        name=name, image=images.PROBE_IMAGE, labels={PROJECT_KEY: PROJECT, ROLE_KEY: "probe"}, network="bridge",
        aliases=[], env={"ARCHSIM_PORT": "8080"}, memory_mb=64, cpus=1.0, tmpfs_mb=4,
        publish=f"127.0.0.1:{port}:8080", create_only=True,
    )
    startup.mark("asked")
    try:
        if cold:
            engine.call("load", "--quiet", "--input", str(saved), timeout_s=300)
            startup.mark("pulled")
        engine.call(*argv[1:])
        startup.mark("created")
        engine.call("start", name)

        def alive() -> str | None:
            state = engine.call("inspect", "--format", "{{.State.Status}}", name, check=False).stdout.strip()
            return None if state in ("running", "created", "configured") else f"the probe container is {state or 'gone'}"

        startup.mark("answered", first_answer("127.0.0.1", port, time.time() + TIMEOUT_S, alive))
        log = engine.call("logs", name, check=False)
        for moment, at_s in stamps((log.stdout + log.stderr).splitlines()).items():
            startup.mark(moment, at_s)
    finally:
        engine.call(*engine.remove_argv([name])[1:], check=False)
        if cold and not images.exists(engine, images.PROBE_IMAGE):
            engine.call("load", "--quiet", "--input", str(saved), check=False, timeout_s=300)  # leave it warm
    return startup
