"""Images are rebuilt when, and only when, what they are made of changes; the budgets cover every image."""

import shutil
from pathlib import Path

import pytest

from simulator.deploy import images
from simulator.deploy.topology import APP_IMAGE, BROKER_IMAGE, POSTGRES_IMAGE

LOADTESTS = Path(__file__).resolve().parents[1] / "loadtests"


@pytest.fixture
def folder(tmp_path) -> Path:
    copy = tmp_path / "loadtests"
    shutil.copytree(LOADTESTS / "images", copy / "images")
    shutil.copytree(LOADTESTS / "services", copy / "services", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def digests(folder: Path) -> dict[str, str]:
    return {recipe.tag: images.recipe_digest(folder, recipe) for recipe in images.RECIPES}


def test_the_digest_is_stable_and_ignores_byte_code_caches(folder):
    before = digests(folder)
    (folder / "services" / "archsim_services" / "__pycache__").mkdir(exist_ok=True)
    (folder / "services" / "archsim_services" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    assert digests(folder) == before == digests(folder)


def test_a_changed_service_rebuilds_only_the_app(folder):
    before = digests(folder)
    path = folder / "services" / "archsim_services" / "cpu.py"
    path.write_text(path.read_text() + "\n# changed\n")
    after = digests(folder)
    assert [tag for tag in before if before[tag] != after[tag]] == [APP_IMAGE]


def test_a_changed_slimming_script_rebuilds_the_images_made_with_it_and_the_app_on_the_base(folder):
    before = digests(folder)
    path = folder / "images" / "slim" / "closure.sh"
    path.write_text(path.read_text() + "\n# changed\n")
    after = digests(folder)
    assert {tag for tag in before if before[tag] != after[tag]} == {images.BASE_IMAGE, APP_IMAGE, POSTGRES_IMAGE, BROKER_IMAGE, images.PROBE_IMAGE}


def test_every_image_a_deployment_runs_has_a_budget_and_the_issue_s_limits_hold():
    assert set(images.BUDGETS_MB) == {recipe.tag for recipe in images.RECIPES}
    assert images.BUDGETS_MB[images.BASE_IMAGE] <= 50 and images.BUDGETS_MB[APP_IMAGE] <= 60


def test_builds_are_labelled_with_their_recipe():
    argv = images.Engine("podman").build_argv(tag="t", containerfile="f", context="c", build_args={}, labels={images.RECIPE_LABEL: "abc"})
    assert argv[-3:] == ["--label", "archsim.recipe=abc", "c"]
