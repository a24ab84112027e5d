"""Architecture styles: one application, described once, compiled into each style's topology.

A scenario with an ``application`` and a ``style`` section is compiled here, before the normal
validation, into plain ``services`` and ``classes``: the loader calls :func:`expand_styles` for the
base document and for every variant. Each style is one module (``monolith``, ``microservices``,
``event_driven``, ``space_based``, ``service_based``, ``microkernel``) with a ``compile(build)``
function; :mod:`.building` holds what they share and :mod:`.model` the two sections' format.

The compiled scenario carries ``meta.style`` (the kind), ``meta.structure`` (deployables,
databases, brokers, instances, cores, network hops per request...) and ``meta.style_parameters``
(the costs in seconds), which the results copy into ``extras``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from ...distributions import Deterministic
from ...errors import ScenarioError
from ..diagnostics import line_of, raise_validation, vocabulary
from ...suggest import did_you_mean, listing, quoted
from . import event_driven, microkernel, microservices, monolith, service_based, space_based
from .building import Build
from .model import KINDS, StyledDocument

#: Style kind -> its module (each has ``KIND`` and ``compile(build)``).
STYLES = {module.KIND: module for module in (monolith, microservices, event_driven, space_based, service_based, microkernel)}
assert tuple(STYLES) == KINDS

#: One-way network latency per hop when the scenario gives none: half of the ~0.5 ms round trip
#: within a data centre in Jeff Dean's "latency numbers every programmer should know".
DEFAULT_NETWORK_LATENCY = Deterministic(value=0.25e-3)

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

__all__ = ["STYLES", "expand_styles"]


def expand_styles(data: dict[str, Any], file: str, lines: dict[tuple, int]) -> dict[str, Any]:
    """The scenario document with ``application`` + ``style`` compiled into ``services`` + ``classes``.

    Raises :class:`~simulator.errors.ScenarioError` (one line, with the field path and line) when
    the sections are malformed or the style asks for something the application lacks.
    """
    for section, example in (("application", "capabilities and requests"), ("style", "kind: monolith")):
        if section not in data:
            other = "style" if section == "application" else "application"
            raise ScenarioError(file, section, f"required with `{other}`: give the {section} ({example})", _line(lines, (other,)))
    for section in ("services", "classes"):
        if section in data:
            raise ScenarioError(
                file, section, "a scenario with `application` and `style` gets its services and classes from the style: remove this section",
                _line(lines, (section,)),
            )
    try:
        doc = StyledDocument.model_validate(data)
    except ValidationError as exc:
        raise_validation(file, exc, data, lines, known_fields=vocabulary(StyledDocument) | set(KINDS))
    network = data.get("network") or {}
    b = Build(file=file, lines=lines, app=doc.application, style=doc.style, mix=_mix(data, doc))
    _check_application(b)
    STYLES[doc.style.kind].compile(b)
    b.check_overrides()

    out = {key: value for key, value in data.items() if key not in ("application", "style")}
    _operate(b, data, out)
    out["services"] = b.services
    out["classes"] = b.classes
    if "latency" not in network:
        out["network"] = {**network, "latency": DEFAULT_NETWORK_LATENCY.model_dump(by_alias=True)}
    latency_s = _mean_latency(out["network"]["latency"])
    parameters = {
        "network_latency_s": latency_s,
        "serialisation_s": doc.style.serialisation.mean,
        "in_process_call_s": doc.style.in_process_call.mean,
        **b.parameters,
    }
    out["meta"] = {**(data.get("meta") or {}), "style": doc.style.kind, "structure": b.structure(), "style_parameters": parameters}
    return out


def _operate(b: Build, data: dict[str, Any], out: dict[str, Any]) -> None:
    """Where the styled services run and what happens to them, named by capability where it matters.

    ``style.platform`` goes on every service the style built (a deployable's own ``platform``
    wins); ``style.rollout`` becomes the ``deployment`` of the deployable that runs its capability;
    a failure whose ``service`` names a capability (not a built service) hits that capability's
    deployable, so one scenario file injects the same fault into every style.
    """
    raw_style = data.get("style") or {}
    if raw_style.get("platform") is not None:
        for spec in b.services.values():
            spec.setdefault("platform", raw_style["platform"])
    rollout = raw_style.get("rollout")
    if isinstance(rollout, dict):
        deployment = {k: v for k, v in rollout.items() if k != "capability"}
        b.services[_deployable_of(b, rollout["capability"], ("style", "rollout", "capability"))]["deployment"] = deployment
    failures = data.get("failures")
    if isinstance(failures, list):
        placed = []
        for i, failure in enumerate(failures):
            target = failure.get("service") if isinstance(failure, dict) else None
            if isinstance(target, str) and target not in b.services and target in b.app.capabilities:
                failure = {**failure, "service": _deployable_of(b, target, ("failures", i, "service"))}
            placed.append(failure)
        out["failures"] = placed


def _deployable_of(b: Build, capability: str, path: tuple) -> str:
    if capability in b.app.capabilities and capability not in b.placement:
        b.error(path, f"capability {quoted(capability)} is used by no request, so the {b.style.kind} style builds nothing for it")
    if capability not in b.placement:
        b.error(path, f"no capability {quoted(capability)} in the application{did_you_mean(capability, b.app.capabilities)}; "
                      f"it has: {listing(b.app.capabilities)}")
    return b.placement[capability]


def _line(lines: dict[tuple, int], path: tuple) -> int | None:
    return line_of(lines, path)


def _mix(data: dict[str, Any], doc: StyledDocument) -> dict[str, float]:
    """Share of each request class, for averages in ``meta`` (equal shares if the mix is unreadable)."""
    workload = data.get("workload")
    mix = workload.get("mix") if isinstance(workload, dict) else None
    if isinstance(mix, dict) and all(isinstance(v, (int, float)) for v in mix.values()):
        return {str(k): float(v) for k, v in mix.items()}
    return {name: 1.0 / len(doc.application.requests) for name in doc.application.requests}


def _mean_latency(latency: Any) -> float:
    from ..model import Network

    try:
        return Network.model_validate({"latency": latency}).latency.mean
    except ValidationError:
        return 0.0  # the scenario validation reports it


def _check_application(b: Build) -> None:
    """Names usable as service names, and every request step naming an existing operation."""
    app = b.app
    for capability, operations in app.capabilities.items():
        where = ("application", "capabilities", capability)
        if not _NAME.match(capability):
            b.error(where, f"a capability name may hold letters, digits, '_' and '-' only (got {capability!r})")
        if not operations:
            b.error(where, f"capability '{capability}' has no operation: give at least one (e.g. `read: {{cpu: exp(1ms), reads: 1}}`)")
        for name in operations:
            if not _NAME.match(name):
                b.error(where + (name,), f"an operation name may hold letters, digits, '_' and '-' only (got {name!r})")
    for request, spec in app.requests.items():
        if not _NAME.match(request):
            b.error(("application", "requests", request), f"a request class name may hold letters, digits, '_' and '-' only (got {request!r})")
        for i, step in enumerate(spec.steps):
            where = ("application", "requests", request, "steps", i)
            capability, dot, operation = step.use.partition(".")
            if capability not in app.capabilities:
                suggestion = did_you_mean(capability, app.capabilities)
                b.error(where, f"no capability '{capability}' in the application{suggestion}; it has: {listing(app.capabilities)}")
            operations = app.capabilities[capability]
            if not dot:
                b.error(where, f"write the step as '{capability}.<operation>'; '{capability}' has: {listing(operations)}")
            if operation not in operations:
                suggestion = did_you_mean(operation, operations)
                b.error(where, f"capability '{capability}' has no operation '{operation}'{suggestion}; it has: {listing(operations)}")
