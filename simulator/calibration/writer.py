"""The calibrated scenario: the fitted model as a scenario file, every fitted number commented.

``render`` turns a :class:`~.structure.Structure` and :class:`~.parameters.ModelParameters` into
scenario YAML text. Each fitted number carries a comment with its source and standard error;
each number taken from the deployment says so. The file has one variant, named after the style,
so ``archsim run`` simulates it and ``archsim loadtest FILE --host URL --variant <style>`` loads
the deployed style with the style's locustfile; ``--set workload.rate=R/s`` works for both.
A structure with a shared host (measured in containers) adds ``hosts: {cpu: shared}``: the
machine's cores, the containers' ``--cpus`` as quotas, and the load generator's measured CPU per
request, so the model's tiers compete for the cores the real ones did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .estimate import Fitted
from .parameters import ModelParameters
from .structure import SharedHost, Structure

CONSTANT_CV = 0.02  #: A fitted CV below this is written as a constant demand.


@dataclass(frozen=True)
class ScenarioSettings:
    """The parts of the calibrated scenario that are choices, not fits."""

    name: str
    rate_per_s: float
    mix: dict[str, float]
    duration_s: float = 60.0
    warmup_s: float = 10.0
    replications: int = 3
    seed: int = 1
    description: str = ""
    header: tuple[str, ...] = ()  #: Extra comment lines at the top (where the measurements came from).


def rounded_mix(mix: dict[str, float], digits: int = 4) -> dict[str, float]:
    """Shares rounded to ``digits`` decimals that still sum to exactly 1 (the remainder goes to the largest)."""
    total = sum(v for v in mix.values() if v > 0) or 1.0
    shares = {c: round(v / total, digits) for c, v in mix.items() if v > 0}
    largest = max(shares, key=shares.get)
    shares[largest] = round(shares[largest] + 1.0 - sum(shares.values()), digits)
    return shares


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.6g}ms"


def segments(mean_s: float, cv: float, calls: list[str]) -> tuple[str, list[str]]:
    """An interleaved operation's demand as equal segments around its calls: one, and one per awaited call.

    The first segment is the ``service_time``; each call is followed by a ``work`` step, so the
    operation takes a core again after every answer, as an asyncio service does. Each segment's
    CV is ``cv·sqrt(n)``, so the sum of the ``n`` keeps the fitted CV.
    """
    awaited = [call for call in calls if "mode: async" not in call]  # a fire-and-forget call is not waited for
    n = len(awaited) + 1
    piece = distribution(mean_s / n, cv * n**0.5)
    steps: list[str] = []
    for call in calls:
        steps += [call] if call not in awaited else [call, f"{{work: {piece}}}"]
    return piece, steps


def distribution(mean_s: float, cv: float) -> str:
    """Scenario text of a demand: gamma of the fitted mean and CV, or constant when the CV is ~0."""
    if mean_s <= 0:
        return "const(0ms)"
    if cv < CONSTANT_CV:
        return f"const({_ms(mean_s)})"
    return f'"gamma({_ms(mean_s)}, cv={cv:.4g})"'


def _comment(label: str, fitted: Fitted) -> str:
    return f"{label} {fitted.describe()}, {fitted.source}"


def render(structure: Structure, parameters: ModelParameters, settings: ScenarioSettings) -> str:
    """The calibrated scenario as YAML text (see the module docstring)."""
    lines = [f"# {line}" if line else "#" for line in settings.header]
    lines += [f"# Assumption: {note}" for note in [*structure.notes, *parameters.notes]]
    mix = rounded_mix({c: settings.mix.get(c, 0.0) for c in structure.classes})
    lines += [
        f"name: {settings.name}",
        f"description: {json.dumps(settings.description or f'{structure.style} as calibrated from measurements')}",
        f"seed: {settings.seed}",
        f"duration: {settings.duration_s:g}s",
        f"warmup: {settings.warmup_s:g}s",
        f"replications: {settings.replications}",
        f"meta: {{style: {structure.style}, calibrated: true}}",
        "workload:",
        f"  rate: {settings.rate_per_s:.6g}/s",
        f"  mix: {{{', '.join(f'{c}: {share!r}' for c, share in mix.items())}}}",
        "network:",
        f"  latency: const({_ms(parameters.hop_s.value)})  # one-way, every hop: {_comment('', parameters.hop_s).strip()}",
    ]
    if parameters.client_hop_s is not None:
        lines[-1] = f"  latency: const({_ms(parameters.hop_s.value)})  # one-way, every hop between services: {_comment('', parameters.hop_s).strip()}"
        lines.append(f"  client_latency: const({_ms(parameters.client_hop_s.value)})  # one-way, client to service: "
                     f"{_comment('', parameters.client_hop_s).strip()}")
    lines += [
        "classes:",
    ]
    calls, downstream = structure.call_graph()
    for c in structure.classes:
        lines.append(f"  {c}:")
        lines.append(f"    calls: [{', '.join(f'{t}.{o}' for t, o in calls[c])}]")
    lines.append("services:")
    for name, tier in structure.tiers.items():
        lines.append(f"  {name}:")
        lines.append(f"    instances: {tier.instances}  # as deployed")
        limit = f" (container CPU limit {tier.cpu_limit:g})" if tier.cpu_limit is not None else ""
        lines.append(f"    cores: {tier.cores}  # as deployed{limit}")
        if tier.concurrency is not None:
            lines.append(f"    concurrency: {tier.concurrency}  # as deployed: requests held at once")
        lines.append("    operations:")
        for tier_name, op in structure.operations(name):
            demand = parameters.demands[(tier_name, op)]
            cv = parameters.cv.get((tier_name, op), Fitted(1.0, None, "assumed exponential (no per-request reports)", unit="ratio"))
            lines.append(f"      {op}:")
            made = [f"{{call: {t}.{o}, mode: async}}" if (t, o) in structure.asynchronous else f"{t}.{o}"  # fire-and-forget (structure.py)
                    for t, o in downstream.get((tier_name, op), ())]
            if made and parameters.interleaved:
                first, steps = segments(demand.value, cv.value, made)
                lines.append(f"        service_time: {first}  # the first of equal segments: the core is given up at each awaited call (asyncio)")
            else:
                lines.append(f"        service_time: {distribution(demand.value, cv.value)}")
            lines.append(f"        # mean: {_comment('', demand).strip()}")
            lines.append(f"        # cv: {_comment('', cv).strip()}")
            if made and parameters.interleaved:
                lines.append(f"        calls: [{', '.join(steps)}]  # {len(made)} round trip(s), from the structure, each answer followed by a segment")
            elif made:
                lines.append(f"        calls: [{', '.join(made)}]  # {len(made)} round trip(s), from the structure")
    if structure.host is not None:
        lines += _host_lines(structure, structure.host)
    lines += ["variants:", f"  - {{name: {structure.style}, description: {json.dumps(settings.description or 'calibrated model')}}}"]
    return "\n".join(lines) + "\n"


def _host_lines(structure: Structure, host: SharedHost) -> list[str]:
    """The ``hosts`` block: every tier and the load generator on one machine's cores, under the containers' quotas."""
    lines = ["hosts:", f"  cores: {host.cores}  # {host.cores_source}", "  cpu: shared  # every container and the load generator share them"]
    limits = {name: t.cpu_limit for name, t in structure.tiers.items() if t.cpu_limit is not None}
    if limits:
        lines.append(f"  cpu_limits: {{{', '.join(f'{n}: {v:g}' for n, v in limits.items())}}}  # the containers' --cpus, as deployed")
    if host.generator_cpu_per_request_s is not None:
        fitted = Fitted(host.generator_cpu_per_request_s, host.generator_std_error_s, host.generator_source)
        lines.append(f"  load_generator: {{cpu_per_request: {_ms(fitted.value)}}}  # {fitted.describe()}, {fitted.source}")
    else:
        lines.append(f"  # load_generator: {host.generator_source}")
    return lines


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
