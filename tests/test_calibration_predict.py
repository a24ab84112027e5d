"""Cross-style prediction: a monolith's calibration predicts a service-based deployment of the same shop.

The truth is one set of capability demands (``catalog.item``, ``cart.add``, ...), the same in both
styles, as the reference services burn the same CPU per capability operation whatever the style.
The monolith's calibrated file holds the per-class demands those imply; a service-based folder is
"measured" by simulating the service-based structure with the same capability demands. Carrying
the monolith's demands over must then rebuild the service-based demands exactly and predict its
runs within every target. The operations of placing an order that no class performs alone are
split by the application's declared CPU, so the truth keeps those proportions (1.2 × declared):
the test checks the arithmetic of the transfer, not a guess about an unmeasured split.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from simulator.calibration import styles
from simulator.calibration.estimate import Fitted
from simulator.calibration.parameters import ModelParameters
from simulator.calibration.predict import declared_cpu_s, predict, read_source, transfer
from simulator.calibration.synthetic import write_folder
from simulator.calibration.writer import ScenarioSettings, render, write
from simulator.deploy import topology as topologies
from simulator.errors import ArchsimError

MIX = {"browse": 0.5, "add_to_cart": 0.25, "place_order": 0.1, "order_status": 0.15}  #: 2.5 items per order
DB_QUERY_S = 0.12e-3
HOP_S = 0.15e-3
OWN = {"catalog.item": 1.0e-3, "cart.add": 1.1e-3, "orders.status": 0.6e-3}  #: Capability operations a class performs alone.


def capability_truth() -> dict[str, float]:
    declared = declared_cpu_s()
    placing = ("cart.items", "cart.clear", *styles.PLACE_ORDER_OWN)
    return {**OWN, **{w: 1.2 * declared[w] for w in placing}}


def structure(style: str):
    plan = topologies.build(style, 1, topologies.Secrets("unused", "unused"), "spec")
    return styles.STRUCTURES[style](plan, MIX).structure


def parameters(style: str) -> ModelParameters:
    """Each operation's demand: the capability operations it performs, at the truth; the database's per query."""
    s = structure(style)
    truth = capability_truth()
    demands = {op: DB_QUERY_S if op == ("db", "query") else sum(n * truth[w] for w, n in s.work.get(op, {}).items())
               for op in s.operations()}
    return ModelParameters({op: Fitted(v, 0.0, "truth") for op, v in demands.items()},
                           {op: Fitted(1.0 if op[0] == "db" else 0.2, 0.0, "truth", "ratio") for op in demands},
                           Fitted(HOP_S, 0.0, "truth"))


@pytest.fixture(scope="module")
def monolith_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("source") / "monolith.yaml"
    return write(path, render(structure("monolith"), parameters("monolith"), ScenarioSettings("calibrated-monolith", 100.0, MIX)))


def test_the_monolith_s_place_order_is_split_into_capability_operations_and_rebuilt_for_service_based(monolith_file):
    source = read_source(monolith_file)
    assert source.style == "monolith" and source.hop_s == pytest.approx(HOP_S)
    carried = transfer(source, structure("service-based"), declared_cpu_s())
    truth = capability_truth()
    assert {w: round(v * 1e6, 3) for w, v in carried.capability_s.items()} == {w: round(v * 1e6, 3) for w, v in truth.items()}
    expected = parameters("service-based")
    for op, fitted in carried.parameters.demands.items():
        if op != ("gateway", "proxy"):
            assert fitted.value == pytest.approx(expected.demands[op].value, rel=1e-9), op
    # the gateway performs no capability operation and the monolith has none: no demand to carry, and it is said
    assert carried.parameters.demands[("gateway", "proxy")].value == 0.0
    assert carried.notes == ["gateway.proxy has no counterpart in monolith (it performs no capability operation): its CPU is taken as 0"]


def test_a_source_written_as_asyncio_segments_is_read_as_its_whole_demand(monolith_file, tmp_path):
    """A calibration of the reference services writes each demand as k + 1 segments (service_time
    and a ``work`` step after every awaited call): the source's demand is their sum, its CV theirs."""
    interleaved = replace(parameters("monolith"), interleaved=True)
    segmented = write(tmp_path / "segmented.yaml", render(structure("monolith"), interleaved, ScenarioSettings("calibrated-monolith", 100.0, MIX)))
    assert "{work:" in segmented.read_text()
    whole, split = read_source(monolith_file), read_source(segmented)
    for op, demand in whole.demands.items():
        assert split.demands[op] == pytest.approx(demand, rel=1e-5), op  # each segment written to 6 figures
        assert split.cv[op] == pytest.approx(whole.cv[op], rel=1e-3), op


def test_a_service_based_deployment_with_the_monolith_s_capability_demands_is_predicted_within_every_target(monolith_file, tmp_path):
    target = structure("service-based")
    truth = parameters("service-based")  # the gateway costs nothing here, as the prediction assumes
    bound = 1.0 / max(sum(share * n * truth.demands[op].value for c, share in MIX.items() for op, n in target.visits[c].items()
                          if op[0] == name) / tier.servers for name, tier in target.tiers.items())
    folder = tmp_path / "service-based"
    write_folder(folder, target, truth, MIX, {f"{p}%": p / 100 * bound for p in (20, 50, 80)},
                 hold_out={"hold-out 65%": 0.65 * bound}, duration_s=60.0)
    result = subprocess.run([sys.executable, "-m", "simulator.cli", "calibrate", "--predict", str(folder), "--from-calibrated",
                             str(monolith_file), "--calibrated", str(tmp_path / "predicted.yaml")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("service-based predicted from the monolith calibration")
    verdicts = [line for line in lines if line.startswith(("met", "MISSED", "-"))]
    assert len(verdicts) == 4 and all(line.startswith("met") for line in verdicts), result.stdout
    report = (folder / "prediction-from-monolith" / "report.md").read_text()
    assert "| catalog.item | 1.000 ms | all of monolith monolith.browse |" in report
    assert (tmp_path / "predicted.yaml").read_text().count("carried from") >= 8


def test_predict_needs_both_halves_and_a_calibrated_source(tmp_path):
    lone = subprocess.run([sys.executable, "-m", "simulator.cli", "calibrate", "--predict", str(tmp_path)], capture_output=True, text=True)
    assert lone.returncode == 2 and "--predict DIR and --from-calibrated FILE go together" in lone.stderr
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: plain\nduration: 10s\nworkload: {rate: 1/s}\nservices: {a: {operations: {b: {service_time: const(1ms)}}}}\n"
                     "classes: {c: {calls: [a.b]}}\n")
    with pytest.raises(ArchsimError, match="not a calibrated style scenario"):
        read_source(plain)
