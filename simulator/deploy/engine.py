"""The container engine (Podman or Docker) behind one small command-line wrapper.

Both engines speak the same CLI for build, run, rm, ps, logs and inspect; the few differences
(Podman needs lowered ulimits on hosts without CAP_SYS_RESOURCE, Docker's ``rm`` has no stop
timeout) live here and nowhere else. Commands are built by pure methods so they can be tested
without an engine.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.errors import EnvironmentProblem

from .project import IMAGE_LABEL

ENGINES = ("podman", "docker")  #: Supported engines, in the order ``auto`` tries them.


@dataclass(frozen=True)
class Engine:
    """One container engine, named by its executable."""

    name: str  #: ``podman`` or ``docker``.

    def argv(self, *args: str) -> list[str]:
        return [self.name, *args]

    def run_argv(self, *, name: str, image: str, labels: dict[str, str], network: str, aliases: Sequence[str],
                 env: dict[str, str], memory_mb: int, cpus: float, tmpfs_mb: int, publish: str | None,
                 command: Sequence[str] = (), user: str | None = None, create_only: bool = False) -> list[str]:
        """``run`` (or, with ``create_only``, ``create``) with the hardening every archsim container gets."""
        args = ["create", "--name", name] if create_only else ["run", "--detach", "--name", name]
        for key, value in labels.items():
            args += ["--label", f"{key}={value}"]
        args += ["--network", network]
        for alias in aliases:
            args += ["--network-alias", alias]
        args += [
            "--read-only", "--tmpfs", f"/tmp:rw,size={tmpfs_mb}m,mode=1777",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", f"{memory_mb}m", "--cpus", f"{cpus:g}", "--pids-limit", "256",
        ]
        if self.name == "podman":
            args += ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
        if user:
            args += ["--user", user]
        if publish:
            args += ["--publish", publish]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        return self.argv(*args, image, *command)

    def build_argv(self, *, tag: str, containerfile: str, context: str, build_args: dict[str, str],
                   labels: dict[str, str] | None = None, squash: bool = False) -> list[str]:
        """``build``; ``squash`` makes one layer of the whole image (Podman only), sharing none with its base."""
        args = ["build", "--network", "host", "--force-rm", "--file", containerfile, "--tag", tag,
                "--label", IMAGE_LABEL]
        if squash and self.name == "podman":
            args.append("--squash-all")
        for key, value in (labels or {}).items():
            args += ["--label", f"{key}={value}"]
        for key, value in build_args.items():
            args += ["--build-arg", f"{key}={value}"]
        return self.argv(*args, context)

    def remove_argv(self, ids: Sequence[str]) -> list[str]:
        if self.name == "podman":
            return self.argv("rm", "--force", "--time", "3", *ids)
        return self.argv("rm", "--force", *ids)

    def call(self, *args: str, check: bool = True, timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run an engine command, capturing its output."""
        try:
            done = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as error:
            raise EnvironmentProblem(f"'{self.name} {args[0]}' did not finish in {timeout_s:.0f} s: check '{self.name} info'") from error
        if check and done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise EnvironmentProblem(f"'{self.name} {' '.join(args[:2])}' failed: {detail[-1] if detail else 'no output'}")
        return done

    def lines(self, *args: str) -> list[str]:
        return [line for line in self.call(*args).stdout.splitlines() if line.strip()]

    def works(self) -> bool:
        """True when the engine answers (Docker's CLI may be installed without a daemon)."""
        try:
            return subprocess.run(self.argv("info"), capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


def detect(preferred: str = "auto") -> Engine:
    """The engine to use: ``preferred`` if given, else the first of :data:`ENGINES` that works."""
    if preferred not in ("auto", *ENGINES):
        raise EnvironmentProblem(f"unknown container engine {preferred!r}: use podman or docker")
    candidates = ENGINES if preferred == "auto" else (preferred,)
    installed = [name for name in candidates if shutil.which(name)]
    if not installed:
        wanted = "Podman or Docker" if preferred == "auto" else preferred
        raise EnvironmentProblem(
            f"no container engine found: install {wanted} (as root: bash loadtests/ci/setup-containers.sh)"
        )
    for name in installed:
        engine = Engine(name)
        if engine.works():
            return engine
    raise EnvironmentProblem(
        f"{' and '.join(installed)} installed but not answering ('{installed[0]} info' fails): "
        "start the Docker daemon, or install Podman (bash loadtests/ci/setup-containers.sh)"
    )
