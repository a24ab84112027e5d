"""From a YAML file to validated scenarios, or one line saying what is wrong and where.

The pipeline (after Ciw's ``import_params``): read the YAML keeping each node's line; apply
``--set`` overrides; validate with pydantic; run the cross-field checks; expand ``variants`` into
complete scenarios. Any failure becomes a :class:`~simulator.errors.ScenarioError` naming the file,
the field path, the line and what was expected.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from ..suggest import did_you_mean, listing, quoted, shown
from ..textfile import read_text
from . import checks, document
from .diagnostics import format_path, line_of, raise_validation
from .sweep import Point
from .sweep import points as sweep_points
from .model import Scenario

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Variant:
    """One complete, validated design to simulate."""

    name: str
    description: str
    scenario: Scenario
    point: Point | None = None  #: the sweep point this variant runs at (None without a sweep)
    declared: str = ""  #: the name in ``variants:`` ("base" if none) when ``point`` is set


@dataclass
class LoadedScenario:
    """A scenario file after validation: the base scenario and the variants to run."""

    file: str
    base: Scenario
    variants: list[Variant]
    raw: dict[str, Any] = field(repr=False)


# --- YAML with line numbers ----------------------------------------------------------------------


def read_yaml(path: str | Path) -> tuple[dict[str, Any], dict[Path_, int]]:
    """The YAML document as plain data, plus the line of each field path (bounded: see :mod:`.document`)."""
    name = str(path)
    try:
        text = read_text(path, "scenario file", document.MAX_FILE_BYTES)
    except ValueError as exc:
        raise ScenarioError(name, "", str(exc)) from None
    try:
        data, lines = document.parse(text)
    except document.DocumentProblem as problem:
        raise ScenarioError(name, format_path(problem.path), problem.message, problem.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(name, "", f"invalid YAML: {shown(problem)}", line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ScenarioError(name, "", "expected a mapping of scenario fields (name, duration, workload, ...)")
    return data, lines


# --- overrides and variants ----------------------------------------------------------------------


def parse_assignment(text: str) -> tuple[str, Any]:
    """``'services.api.instances=4'`` -> ``('services.api.instances', 4)`` (the value is read as YAML)."""
    if "=" not in text:
        raise ValueError(f"--set expects path=value, got {quoted(text)}")
    key, value = text.split("=", 1)
    try:
        parsed = document.parse_value(value) if value.strip() else ""
    except document.DocumentProblem as problem:
        raise ValueError(f"the value {problem.message}") from None
    return key.strip(), parsed


#: Top-level mappings of named things: a dotted path into one of them must name an existing entry
#: (``services.srv.cores`` with no ``srv`` is a typo, not a new service; assign a whole mapping to add one).
NAMED_COLLECTIONS = ("services", "classes")

MAX_PATH_PARTS = 32  #: Most dotted parts in a ``--set`` or variant path (the deepest field has 10).


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Assign ``value`` at a dotted path, creating mappings on the way; ``list.0`` indexes lists."""
    parts = dotted.split(".")
    if not all(parts):
        raise ValueError(f"bad path {quoted(dotted)}")
    if len(parts) > MAX_PATH_PARTS:
        raise ValueError(f"a path of {len(parts)} parts: at most {MAX_PATH_PARTS} are accepted")
    if len(parts) > 2 and parts[0] in NAMED_COLLECTIONS and isinstance(data.get(parts[0]), dict) and parts[1] not in data[parts[0]]:
        known = list(data[parts[0]])
        raise ValueError(f"no {quoted(parts[1])} in {parts[0]}{did_you_mean(parts[1], known)}; it has: {listing(known)}")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        elif not isinstance(node, dict):
            raise ValueError(f"{quoted(part)} is inside a value that is not a mapping")
        else:
            if not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ValueError(f"{quoted(last)} is inside a value that is not a mapping")


def _blame_flags(error: ScenarioError, flags: dict[str, str]) -> ScenarioError:
    """An error in a field set on the command line names the flag, not a line of the file."""
    for name, flag in flags.items():
        if error.path == name or error.path.startswith(name + ".") or error.path.startswith(name + "["):
            return ScenarioError(error.file, error.path, f"{error.expected} (set by {flag})")
    return error


def _validate(file: str, data: dict[str, Any], lines: dict[Path_, int], prefix: Path_ = ()) -> Scenario:
    if "application" in data or "style" in data:
        # An application described once plus a style: compile it into services and classes.
        from .styles import expand_styles

        data = expand_styles(data, file, lines)
    try:
        # base_dir: relative file references in a scenario (e.g. start-up profiles) are read from
        # the scenario's own folder
        scenario = Scenario.model_validate(data, context={"base_dir": str(Path(file).resolve().parent)})
    except ValidationError as exc:
        raise_validation(file, exc, data, lines, prefix)
    problem = checks.first_problem(scenario)
    if problem:
        path, expected = problem
        full = prefix + path
        raise ScenarioError(file, format_path(full), expected, line_of(lines, full))
    return scenario


def load_scenario(
    path: str | Path,
    overrides: list[str] | None = None,
    *,
    seed: int | None = None,
    replications: int | None = None,
) -> LoadedScenario:
    """Read, override, validate and expand a scenario file. Raises :class:`ScenarioError`."""
    file = str(path)
    data, lines = read_yaml(path)
    flags: dict[str, str] = {}
    for text in overrides or []:
        try:
            key, value = parse_assignment(text)
            set_path(data, key, value)
        except (ValueError, IndexError, TypeError, AttributeError) as exc:
            raise ScenarioError(file, f"--set {shown(text, 80)}", f"cannot apply override: {shown(exc)}") from None
        flags[key] = f"--set {shown(text, 80)}"
    if seed is not None:
        data["seed"] = seed
        flags["seed"] = f"--seed {seed}"
    if replications is not None:
        data["replications"] = replications
        flags["replications"] = f"--replications {replications}"
    try:
        base = _validate(file, data, lines)
    except ScenarioError as error:
        raise _blame_flags(error, flags) from None

    points = sweep_points(base.sweep, base.seed) if base.sweep is not None else [None]
    specs = list(enumerate(base.variants)) or [(None, None)]
    variants: list[Variant] = []
    seen: set[str] = set()
    for i, spec in specs:
        if spec is not None and spec.name in seen:
            where: Path_ = ("variants", i)
            raise ScenarioError(file, format_path(where + ("name",)), f"duplicate variant name {quoted(spec.name)}", line_of(lines, where))
        seen.add(spec.name if spec is not None else "base")
    names: set[str] = set()
    for point in points:
        for i, spec in specs:
            variant = _resolve_variant(file, data, lines, base, point, i, spec)
            if variant.name in names:
                raise ScenarioError(file, "sweep.name", f"two points are both named {quoted(variant.name)}; name points by more of their values", line_of(lines, ("sweep",)))
            names.add(variant.name)
            variants.append(variant)
    return LoadedScenario(file=file, base=base, variants=variants, raw=data)


def _resolve_variant(
    file: str, data: dict[str, Any], lines: dict[Path_, int], base: Scenario, point: Point | None, i: int | None, spec: Any
) -> Variant:
    """The complete scenario of one variant at one sweep point: the file's fields, then the point's
    assignments, then the variant's ``set``, each applied like ``--set`` and validated once."""
    if point is None and spec is None:
        return Variant("base", base.description, base)
    where: Path_ = ("variants", i) if i is not None else ()
    resolved = copy.deepcopy({k: v for k, v in data.items() if k not in ("variants", "sweep")})
    if point is not None:
        if point.seed != base.seed:
            resolved["seed"] = point.seed
        for key, value in point.values.items():
            try:
                set_path(resolved, key, copy.deepcopy(value))
            except (ValueError, IndexError, TypeError, AttributeError, KeyError) as exc:
                origin = point.origins[key]
                raise ScenarioError(file, format_path(origin), f"cannot apply: {shown(exc)}", line_of(lines, origin)) from None
    for key, value in (spec.set.items() if spec is not None else ()):
        if point is not None and any(_covers(key, swept) or _covers(swept, key) for swept in point.values):
            raise ScenarioError(file, format_path(where + ("set", key)), "is also swept by `sweep:`; set it in one place",
                                line_of(lines, where + ("set", key)))
        try:
            set_path(resolved, key, copy.deepcopy(value))
        except (ValueError, IndexError, TypeError, AttributeError, KeyError) as exc:
            raise ScenarioError(file, format_path(where + ("set", key)), f"cannot apply: {shown(exc)}", line_of(lines, where + ("set", key))) from None
    try:
        scenario = _validate(file, resolved, {}, ())
    except ScenarioError as exc:
        swept = next((key for key in (point.values if point is not None else ()) if _covers(key, exc.path)), None)
        if swept is not None:  # a swept value is wrong: point at it, as --set would
            origin = point.origins[swept]
            raise ScenarioError(file, format_path(origin), f"{exc.expected} (value {shown(repr(point.values[swept]), 60)} for {swept})",
                                line_of(lines, origin)) from None
        at = f" at sweep point {quoted(point.label)}" if point is not None else ""
        if spec is None:  # the point's values together make an invalid scenario
            raise ScenarioError(file, "sweep", f"point {quoted(point.label)} is invalid at {exc.path or 'top level'}: {exc.expected}",
                                line_of(lines, ("sweep",))) from None
        raise ScenarioError(
            file,
            format_path(where + ("set",)),
            f"variant '{spec.name}'{at} is invalid at {exc.path or 'top level'}: {exc.expected}",
            line_of(lines, where + ("set",)),
        ) from None
    name = spec.name if spec is not None else "base"
    description = spec.description if spec is not None else base.description
    if point is None:
        return Variant(name, description, scenario)
    full = point.label if spec is None else f"{spec.name}-{point.label}"
    return Variant(full, description, scenario, point=point, declared=name)


def _covers(path: str, field_path: str) -> bool:
    """Whether the dotted ``path`` is ``field_path`` or one of its ancestors."""
    return field_path == path or field_path.startswith(path + ".") or field_path.startswith(path + "[")
