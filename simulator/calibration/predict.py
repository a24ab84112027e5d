"""Cross-style prediction: demands calibrated on one style predict another style of the same application.

The architecture question users ask is "what if we built it the other way?". ``archsim calibrate
--predict DIR --from-calibrated FILE`` answers it and says how well: ``FILE`` is the calibrated
scenario of one style (the source, e.g. ``calibrated/monolith.yaml``), ``DIR`` the measurement
folder of another style (the target, from ``archsim calibrate STYLE --out DIR``). Nothing of the
target's measurements is fitted; they are only what the prediction is judged against.

1. **Capability demands from the source.** Every operation of a calibration structure says which
   of the application's capability operations it performs (``styles.py``: ``monolith.place_order``
   reads the cart, reads k products, records the order, ... ; ``storefront.browse`` is
   ``catalog.item``). The source's fitted demands are split over those capability operations,
   operations with fewest capability operations first: a capability operation that one source
   operation performs alone (``catalog.item`` in browse) takes that demand; what an operation's
   demand leaves after the known ones is split over the unknown ones in proportion to the CPU the
   application declares for them (``scenarios/styles-baseline.yaml``), equally where it declares
   none. The one-way hop cost and the database's per-query demand are the source's.
2. **The target's model.** The target structure (tiers, instances, cores, pools and call graph, as
   the target was deployed: read from its folder) gets, for each operation, the sum of its
   capability operations' demands. An operation that performs no capability operation and has no
   namesake in the source (a gateway's ``proxy``) has no demand to carry over: it gets 0, and the
   report says so. The shared host is the target's machine, with the load generator's CPU per
   request as measured in the target's runs (the load generator is not part of either style).
3. **Judged as a calibration is.** The predicted scenario is simulated at each of the target's
   measured levels with ``validation.py`` (same figures, same targets, same verdicts) and reported
   with ``report.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from ..errors import ArchsimError
from ..results.rundir import write_json
from ..scenario import load_scenario
from ..scenario.model import Operation as ScenarioOperation
from ..scenario.model import Work
from ..scenario.styles.model import Application
from . import charts, folder as folders
from .estimate import Fitted
from .orchestrate import SHOP_SCENARIO, shop_mix
from .parameters import ModelParameters, Operation
from .report import MODEL_GAPS, Section, saturation_row, validation_rows, write_report
from .structure import Structure, shared_host
from .styles import STRUCTURES
from .validation import Validation, validate
from .writer import ScenarioSettings, render, write

REPORT_DIR = "prediction-from-{source}"  #: Sub-folder of the target's measurement folder with the prediction's report.


@dataclass(frozen=True)
class Source:
    """A calibrated style: its structure (with each operation's capability work) and fitted numbers."""

    style: str
    structure: Structure
    demands: dict[Operation, float]
    cv: dict[Operation, float]
    hop_s: float
    client_hop_s: float | None  #: One-way client cost, when the source told it apart (the same load generator measures the target).
    file: Path


@dataclass
class Transfer:
    """The capability demands carried from a source and the target's operations built from them."""

    capability_s: dict[str, float]  #: Capability operation -> CPU seconds per call.
    capability_from: dict[str, str]  #: Capability operation -> how its demand was derived.
    parameters: ModelParameters
    notes: list[str] = field(default_factory=list)


def read_source(calibrated_file: Path) -> Source:
    """The calibrated scenario's style, fitted demands, CVs and hop cost, and the style's structure."""
    if not calibrated_file.is_file():
        raise ArchsimError(f"--from-calibrated {calibrated_file}: no such file")
    loaded = load_scenario(calibrated_file)
    base = loaded.base
    style = (base.meta or {}).get("style")
    if not (base.meta or {}).get("calibrated") or style not in STRUCTURES:
        raise ArchsimError(f"--from-calibrated {calibrated_file}: not a calibrated style scenario (meta.style one of "
                           f"{', '.join(STRUCTURES)} and meta.calibrated: true, as `archsim calibrate STYLE` writes)")
    from ..deploy import topology as topologies

    # the structure the calibration fitted: one replica, the shop's mix (orchestrate.py measures so)
    structure = STRUCTURES[style](topologies.build(style, 1, topologies.Secrets("unused", "unused"), "predict"), shop_mix()).structure
    demands, cv = {}, {}
    for tier, op in structure.operations():
        service = base.services.get(tier)
        if service is None or op not in service.operations:
            raise ArchsimError(f"--from-calibrated {calibrated_file}: no operation {tier}.{op}, which the {style} structure has")
        mean, variance = operation_cpu(service.operations[op])
        demands[(tier, op)], cv[(tier, op)] = mean, (math.sqrt(variance) / mean if mean > 0 else 1.0)
    client = base.network.client_latency
    return Source(style, structure, demands, cv, base.network.latency.mean, None if client is None else client.mean, calibrated_file)


def operation_cpu(operation: ScenarioOperation) -> tuple[float, float]:
    """Mean and variance of an operation's whole CPU demand: ``service_time`` and every ``work`` step.

    A calibration of the asyncio reference services writes a demand as ``k + 1`` segments, the
    first as ``service_time`` and one ``work`` step after each awaited call; reading
    ``service_time`` alone took the monolith's placing of an order (29 segments) as 0.27 ms
    instead of 7.8 ms. Segments are independent; a step taken with probability ``p`` adds its
    mixture's mean and variance.
    """
    mean, variance = operation.service_time.mean, operation.service_time.variance
    for step in operation.calls:
        if isinstance(step, Work):
            p, m, v = step.probability, step.work.mean, step.work.variance
            mean += p * m
            variance += p * (v + m * m) - (p * m) ** 2
    return mean, variance


def declared_cpu_s(application_file: Path = SHOP_SCENARIO) -> dict[str, float]:
    """Mean CPU the application declares per capability operation (``application.capabilities``)."""
    data = yaml.safe_load(application_file.read_text(encoding="utf-8"))
    application = Application.model_validate(data["application"])
    return {f"{cap}.{name}": op.cpu.mean for cap, ops in application.capabilities.items() for name, op in ops.items()}


def capability_demands(source: Source, declared: dict[str, float]) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Capability operation -> demand, CV, and a line on where it came from (step 1 of the module docstring)."""
    demand_s: dict[str, float] = {}
    cv: dict[str, float] = {}
    origin: dict[str, str] = {}
    ops = [op for op in source.structure.operations() if source.structure.work.get(op)]
    for op in sorted(ops, key=lambda o: (len(source.structure.work[o]), source.structure.operations().index(o))):
        work = source.structure.work[op]
        unknown = [w for w in work if w not in demand_s]
        if not unknown:
            continue
        left = source.demands[op] - sum(n * demand_s[w] for w, n in work.items() if w in demand_s)
        weights = {w: work[w] * declared.get(w, 0.0) for w in unknown}
        total = sum(weights.values())
        if total <= 0:
            weights, total = {w: work[w] for w in unknown}, sum(work[w] for w in unknown)
        for w in unknown:
            demand_s[w] = max(left, 0.0) * weights[w] / total / work[w]
            cv[w] = source.cv[op]
            share = "all" if len(unknown) == 1 else f"{weights[w] / total:.0%} (declared CPU)" if total else "an equal share"
            origin[w] = f"{share} of {source.style} {op[0]}.{op[1]}" + (" after the capability operations already known" if len(unknown) < len(work) else "")
            if left < 0:
                origin[w] += f" (clipped: the known ones exceed its demand by {-left * 1e3:.3g} ms)"
    return demand_s, cv, origin


def transfer(source: Source, target: Structure, declared: dict[str, float], interleaved: bool = False) -> Transfer:
    """The target's demands from the source's capability demands (steps 1 and 2 of the module docstring)."""
    demand_s, cv, origin = capability_demands(source, declared)
    where = f"carried from {source.file}"
    demands, cvs, notes = {}, {}, []
    for op in target.operations():
        work = target.work.get(op, {})
        if work:
            missing = [w for w in work if w not in demand_s]
            if missing:
                notes.append(f"{op[0]}.{op[1]}: the source performs no {', '.join(missing)}; taken as 0")
            value = sum(n * demand_s.get(w, 0.0) for w, n in work.items())
            main = max(work, key=lambda w: work[w] * demand_s.get(w, 0.0))
            demands[op] = Fitted(value, None, f"{where}: " + " + ".join(f"{n:g} × {w}" for w, n in work.items()))
            cvs[op] = Fitted(cv.get(main, 1.0), None, f"{where}: the CV of {main}'s source operation", unit="ratio")
        elif op in source.demands:
            demands[op] = Fitted(source.demands[op], None, f"{where}: {source.style} {op[0]}.{op[1]}")
            cvs[op] = Fitted(source.cv[op], None, f"{where}: {source.style} {op[0]}.{op[1]}", unit="ratio")
        else:
            demands[op] = Fitted(0.0, None, f"not in {source.style}: no demand to carry over")
            cvs[op] = Fitted(1.0, None, "assumed", unit="ratio")
            notes.append(f"{op[0]}.{op[1]} has no counterpart in {source.style} (it performs no capability operation): its CPU is taken as 0")
    hop = Fitted(source.hop_s, None, f"{where}: the source's one-way cost per hop")
    client = None if source.client_hop_s is None else Fitted(source.client_hop_s, None, f"{where}: the source's one-way cost per client round trip")
    return Transfer(demand_s, origin, ModelParameters(demands, cvs, hop, client_hop_s=client, interleaved=interleaved), notes)


def bound_per_s(structure: Structure, parameters: ModelParameters, mix: dict[str, float]) -> float:
    """The model's saturation throughput: its bottleneck tier's, or the shared host's when lower."""
    per_tier = {name: sum(share * n * parameters.demands[op].value for c, share in mix.items() if c in structure.visits
                          for op, n in structure.visits[c].items() if op[0] == name) for name in structure.tiers}
    bounds = [tier.servers / per_tier[name] for name, tier in structure.tiers.items() if per_tier[name] > 0]
    bound = min(bounds) if bounds else math.inf
    if structure.host is not None:
        bound = min(bound, structure.host.bound_per_s(sum(per_tier.values())))
    return bound


@dataclass
class Prediction:
    source: Source
    target_style: str
    transfer: Transfer
    validation: Validation
    scenario_file: Path
    report_md: Path
    report_html: Path


def predict(target_folder: Path, calibrated_file: Path, scenario_file: Path | None = None, report_dir: Path | None = None) -> Prediction:
    """Predict the target folder's measurements from the calibrated source; write the scenario and the report."""
    source = read_source(calibrated_file)
    measured = folders.read(target_folder)
    manifest = measured.manifest
    if manifest.style not in STRUCTURES:
        raise ArchsimError(f"--predict {target_folder}: not the measurement folder of a calibrated style "
                           f"(one of {', '.join(STRUCTURES)}, measured by `archsim calibrate STYLE`), but of {manifest.style!r}")
    target = manifest.structure
    if not target.work:
        raise ArchsimError(f"--predict {target_folder}: its structure does not say which capability operations each operation "
                           "performs (measured before cross-style prediction existed); measure it again")
    used = [o for o in measured.observations if not o.hold_out]
    if not measured.observations:
        raise ArchsimError(f"--predict {target_folder}: no completed runs to predict")
    if manifest.source == "containers":  # the target's machine, shared as in its own calibration
        target = replace(target, host=shared_host(manifest.deployment, used or measured.observations))
    carried = transfer(source, target, declared_cpu_s(), interleaved=manifest.source == "containers")  # the asyncio reference services
    name = f"{manifest.style}-from-{source.style}"
    scenario_file = scenario_file or Path("calibrated") / f"{name}.yaml"
    out = report_dir or target_folder / REPORT_DIR.format(source=source.style)
    out.mkdir(parents=True, exist_ok=True)
    mix = {c: sum(o.mix().get(c, 0.0) for o in used) / len(used) for c in target.classes} if used else dict(manifest.mix)
    rates = sorted({o.target_rate_per_s for o in measured.observations})
    settings = ScenarioSettings(
        name=f"predicted-{name}", rate_per_s=rates[len(rates) // 2], mix=mix,
        description=f"{manifest.style} predicted from the {source.style} calibration {calibrated_file}",
        header=(f"The {manifest.style} deployment predicted from demands calibrated on {source.style} ({calibrated_file}),",
                f"written by `archsim calibrate --predict {target_folder} --from-calibrated {calibrated_file}`.",
                f"Structure and sizes: {target_folder} (the {manifest.style} deployment as run); no demand was fitted to its measurements.",
                *[f"Note: {n}" for n in carried.notes], ""),
    )
    write(scenario_file, render(target, carried.parameters, settings))
    predicted_bound = bound_per_s(target, carried.parameters, mix)
    saturation = manifest.saturation.get("measured_per_s")
    validation = validate(scenario_file, measured.observations, out / "simulated", saturation_measured_per_s=saturation,
                          saturation_predicted_per_s=predicted_bound)
    caption = f"{manifest.style} measured in {target_folder.name} · predicted from the {source.style} calibration"
    drawn = charts.predicted_vs_measured(validation, out / "charts", caption) + charts.relative_errors(validation, out / "charts", caption)
    sections = [
        Section("Verdict", [("✅ " if v.met else "❌ " if v.met is False else "— ") + v.text() for v in validation.verdicts]),
        Section("Predicted vs measured", [f"Measured {manifest.style} → predicted from {source.style} (relative error) at each of the "
                                          f"target's levels; no number was fitted to these measurements."],
                [validation_rows(validation), saturation_row(validation)], [c for c in drawn if c.suffix == ".png"]),
        Section("Capability demands carried over", [f"From `{calibrated_file}` ({source.style})."],
                [(["capability operation", "CPU per call", "derived from"],
                  [[w, f"{v * 1e3:.3f} ms", carried.capability_from[w]] for w, v in carried.capability_s.items()])]),
        Section("Target demands", [f"Written to `{scenario_file}`."],
                [(["operation", "demand", "source"], [[f"{t}.{o}", f"{f.value * 1e3:.3f} ms", f.source]
                                                      for (t, o), f in carried.parameters.demands.items()])]),
        Section("Measurements", [f"Target: {manifest.style}, {len(measured.observations)} runs read from {target_folder}",
                                 "Levels: " + ", ".join(f"{label} = {rate:.1f}/s" for label, rate in manifest.levels.items()),
                                 *[f"{n}: {t.instances} instance(s) × {t.cores} core(s), concurrency {t.concurrency}, CPU limit {t.cpu_limit}"
                                   for n, t in target.tiers.items()]]),
        Section("What the prediction lacks", [
            *carried.notes,
            "Per-request HTTP handling is inside each source demand: a style that serves more HTTP requests per class "
            "(calls between deployables) spends CPU on each that the source's demands do not hold.",
            *MODEL_GAPS, *target.notes]),
    ]
    md, page = write_report(out, f"{manifest.style} predicted from the {source.style} calibration", sections)
    write_json(out / "prediction.json", {
        "source": {"style": source.style, "calibrated": str(calibrated_file)}, "target": {"style": manifest.style, "folder": str(target_folder)},
        "capability_demands_s": carried.capability_s, "demands_s": {f"{t}.{o}": f.value for (t, o), f in carried.parameters.demands.items()},
        "notes": carried.notes, "saturation_predicted_per_s": predicted_bound, "saturation_measured_per_s": saturation,
        "verdicts": [v.__dict__ for v in validation.verdicts],
        "levels": [{"level": lv.level, "hold_out": lv.hold_out, "rate_per_s": lv.rate_per_s, "measured": lv.measured,
                    "predicted": lv.predicted} for lv in validation.levels],
    })
    return Prediction(source, manifest.style, carried, validation, scenario_file, md, page)
