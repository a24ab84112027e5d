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
from .model import Scenario

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Variant:
    """One complete, validated design to simulate."""

    name: str
    description: str
    scenario: Scenario


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
        from ..styles import expand_styles

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

    variants: list[Variant] = []
    seen: set[str] = set()
    for i, spec in enumerate(base.variants):
        where: Path_ = ("variants", i)
        if spec.name in seen:
            raise ScenarioError(file, format_path(where + ("name",)), f"duplicate variant name {quoted(spec.name)}", line_of(lines, where))
        seen.add(spec.name)
        resolved = copy.deepcopy({k: v for k, v in data.items() if k != "variants"})
        for key, value in spec.set.items():
            try:
                set_path(resolved, key, copy.deepcopy(value))
            except (ValueError, IndexError, TypeError, AttributeError, KeyError) as exc:
                raise ScenarioError(file, format_path(where + ("set", key)), f"cannot apply: {shown(exc)}", line_of(lines, where + ("set", key))) from None
        try:
            scenario = _validate(file, resolved, {}, ())
        except ScenarioError as exc:
            raise ScenarioError(
                file,
                format_path(where + ("set",)),
                f"variant '{spec.name}' is invalid at {exc.path or 'top level'}: {exc.expected}",
                line_of(lines, where + ("set",)),
            ) from None
        variants.append(Variant(spec.name, spec.description, scenario))
    if not variants:
        variants.append(Variant("base", base.description, base))
    return LoadedScenario(file=file, base=base, variants=variants, raw=data)
