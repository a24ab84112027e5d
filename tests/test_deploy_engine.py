"""The engine wrapper builds the same hardened commands for Podman and Docker, and says what to do when none exists."""

import pytest

from loadtest_targets import free_port

from simulator.deploy import engine as engines
from simulator.deploy.engine import Engine
from simulator.errors import EnvironmentProblem


PUBLISH = f"127.0.0.1:{free_port()}:8080"  #: A host port free when the tests start (the command is only built here, never run).


def run_argv(name: str, publish: str | None = PUBLISH) -> list[str]:
    return Engine(name).run_argv(
        name="archsim-monolith-monolith-1", image="localhost/archsim-app:latest",
        labels={"archsim.project": "archsim", "archsim.style": "monolith"}, network="archsim-monolith",
        aliases=["monolith"], env={"ARCHSIM_DATABASE_URL": "postgresql://x"}, memory_mb=192, cpus=1.0,
        tmpfs_mb=16, publish=publish, command=["monolith"],
    )


@pytest.mark.parametrize("name", ["podman", "docker"])
def test_every_container_is_hardened_labelled_and_published_on_loopback_only(name):
    argv = run_argv(name)
    text = " ".join(argv)
    assert argv[:2] == [name, "run"]
    for flag in ("--read-only", "--cap-drop ALL", "--security-opt no-new-privileges", "--memory 192m", "--cpus 1",
                 "--pids-limit 256", "--tmpfs /tmp:rw,size=16m,mode=1777", "--label archsim.project=archsim",
                 "--label archsim.style=monolith", f"--publish {PUBLISH}", "--network archsim-monolith"):
        assert flag in text
    assert argv[-2:] == ["localhost/archsim-app:latest", "monolith"]


def test_only_podman_gets_the_lowered_ulimits():
    assert "nofile=4096:4096" in run_argv("podman")
    assert "nofile=4096:4096" not in run_argv("docker")


def test_unpublished_containers_have_no_port_mapping():
    assert "--publish" not in run_argv("podman", publish=None)


def test_docker_rm_has_no_stop_timeout_podman_does():
    assert Engine("docker").remove_argv(["a", "b"]) == ["docker", "rm", "--force", "a", "b"]
    assert Engine("podman").remove_argv(["a"]) == ["podman", "rm", "--force", "--time", "3", "a"]


def test_builds_use_host_network_and_the_image_label_shared_by_every_project():
    argv = Engine("docker").build_argv(tag="t", containerfile="f", context="c", build_args={"BASE_IMAGE": "b"})
    assert argv == ["docker", "build", "--network", "host", "--force-rm", "--file", "f", "--tag", "t",
                    "--label", "archsim.image=archsim", "--build-arg", "BASE_IMAGE=b", "c"]


def test_no_engine_on_path_is_a_one_line_error_saying_what_to_install(monkeypatch):
    monkeypatch.setattr(engines.shutil, "which", lambda name: None)
    with pytest.raises(EnvironmentProblem) as raised:
        engines.detect("auto")
    assert "install Podman or Docker" in str(raised.value) and "\n" not in str(raised.value)


def test_an_installed_engine_that_does_not_answer_is_reported(monkeypatch):
    monkeypatch.setattr(engines.shutil, "which", lambda name: f"/usr/bin/{name}" if name == "docker" else None)
    monkeypatch.setattr(Engine, "works", lambda self: False)
    with pytest.raises(EnvironmentProblem, match="docker installed but not answering"):
        engines.detect("auto")


def test_unknown_engine_names_are_refused():
    with pytest.raises(EnvironmentProblem, match="unknown container engine 'lxc'"):
        engines.detect("lxc")
