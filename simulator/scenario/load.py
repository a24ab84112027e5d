"""From a YAML file to validated scenarios, or one line saying what is wrong and where.

The pipeline (after Ciw's ``import_params``): read the YAML keeping each node's line; apply
``--set`` overrides; validate with pydantic; run the cross-field checks; expand ``variants`` into
complete scenarios. Any failure becomes a :class:`~simulator.errors.ScenarioError` naming the file,
the field path, the line and what was expected.
"""

from __future__ import annotations

import copy
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ScenarioError
from . import checks
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


class DuplicateKey(Exception):
    """A mapping names the same key twice (YAML keeps the last silently; we refuse)."""

    def __init__(self, path: Path_, line: int, first: int):
        super().__init__(path)
        self.path, self.line, self.first = path, line, first


def _line_map(node: yaml.Node, path: Path_ = (), lines: dict[Path_, int] | None = None) -> dict[Path_, int]:
    """Map each field path in a composed YAML tree to its 1-based line; refuse duplicate keys."""
    lines = {} if lines is None else lines
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            sub = path + (str(key.value),)
            line = key.start_mark.line + 1
            if str(key.value) in seen:
                raise DuplicateKey(sub, line, seen[str(key.value)])
            seen[str(key.value)] = line
            lines[sub] = line
            _line_map(value, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _line_map(item, path + (i,), lines)
    return lines


def read_yaml(path: str | Path) -> tuple[dict[str, Any], dict[Path_, int]]:
    """The YAML document as plain data, plus the line of each field path."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(name, "", "no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ScenarioError(name, "", f"cannot read the file ({exc.__class__.__name__})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(name, "", f"invalid YAML: {problem}", line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ScenarioError(name, "", "expected a mapping of scenario fields (name, duration, workload, ...)")
    try:
        return data, _line_map(node) if node is not None else {}
    except DuplicateKey as dup:
        raise ScenarioError(name, format_path(dup.path), f"duplicate key (first given on line {dup.first}); YAML would silently keep only the last", dup.line) from None


def format_path(path: Path_) -> str:
    """``('services', 'api', 'operations', 'get', 'calls', 0)`` -> ``services.api.operations.get.calls[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


# --- pydantic errors as one line -----------------------------------------------------------------


def _vocabulary(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every field name (by its alias) reachable from ``model``: the words 'did you mean' picks from."""
    seen = set() if seen is None else seen
    if model in seen:
        return set()
    seen.add(model)
    words: set[str] = set()
    for name, info in model.model_fields.items():
        words.add(info.alias or name)
        for sub in _models_in(info.annotation):
            words |= _vocabulary(sub, seen)
    return words


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_models_in(arg))
    return out


def _data_path(loc: tuple[Any, ...], data: Any) -> Path_:
    """Drop pydantic's internal loc parts (union tags, validator names) by walking the real data."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
        elif last and isinstance(part, str) and isinstance(node, dict):
            path.append(part)  # a missing field: name it
        # otherwise: a tag like 'exponential' or 'function-after[...]': not in the file
    return tuple(path)


def _describe(error: dict[str, Any], path: Path_, scenario_fields: set[str]) -> str:
    kind = error["type"]
    msg = error["msg"]
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        hint = difflib.get_close_matches(key, scenario_fields, n=1, cutoff=0.6)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown field '{key}'{suggestion}"
    if kind == "missing":
        field = error["loc"][-1] if error["loc"] and isinstance(error["loc"][-1], str) else None
        if field and (not path or path[-1] != field):
            return f"required field '{field}' is missing"
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, ") :]
    value = error.get("input")
    if kind not in ("value_error", "model_type", "union_tag_invalid") and not isinstance(value, (dict, list)):
        return f"{msg[0].lower()}{msg[1:]} (got {value!r})"
    return msg[0].lower() + msg[1:] if msg else msg


def _raise_validation(file: str, exc: ValidationError, data: Any, lines: dict[Path_, int], prefix: Path_ = ()) -> None:
    errors = exc.errors(include_url=False)
    # Report the most specific error first: unknown fields and bad values before "missing".
    errors.sort(key=lambda e: (e["type"] == "missing", -len(e["loc"])))
    error = errors[0]
    path = _data_path(error["loc"], data)
    vocabulary = _vocabulary(Scenario)
    full = prefix + path
    extra = f" ({len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    raise ScenarioError(file, format_path(full), _describe(error, path, vocabulary) + extra, line_of(lines, full)) from None


# --- overrides and variants ----------------------------------------------------------------------


def parse_assignment(text: str) -> tuple[str, Any]:
    """``'services.api.instances=4'`` -> ``('services.api.instances', 4)`` (the value is read as YAML)."""
    if "=" not in text:
        raise ValueError(f"--set expects path=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    return key.strip(), parsed


#: Top-level mappings of named things: a dotted path into one of them must name an existing entry
#: (``services.srv.cores`` with no ``srv`` is a typo, not a new service; assign a whole mapping to add one).
NAMED_COLLECTIONS = ("services", "classes")


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Assign ``value`` at a dotted path, creating mappings on the way; ``list.0`` indexes lists."""
    parts = dotted.split(".")
    if not all(parts):
        raise ValueError(f"bad path {dotted!r}")
    if len(parts) > 2 and parts[0] in NAMED_COLLECTIONS and isinstance(data.get(parts[0]), dict) and parts[1] not in data[parts[0]]:
        known = list(data[parts[0]])
        hint = difflib.get_close_matches(parts[1], known, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise ValueError(f"no '{parts[1]}' in {parts[0]}{suggestion}; it has: {', '.join(known)}")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            if not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


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
        _raise_validation(file, exc, data, lines, prefix)
        raise  # unreachable: keeps type checkers content
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
            raise ScenarioError(file, f"--set {text}", f"cannot apply override: {exc}") from None
        flags[key] = f"--set {text}"
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
            raise ScenarioError(file, format_path(where + ("name",)), f"duplicate variant name '{spec.name}'", line_of(lines, where))
        seen.add(spec.name)
        resolved = copy.deepcopy({k: v for k, v in data.items() if k != "variants"})
        for key, value in spec.set.items():
            try:
                set_path(resolved, key, copy.deepcopy(value))
            except (ValueError, IndexError, TypeError, AttributeError, KeyError) as exc:
                raise ScenarioError(file, format_path(where + ("set", key)), f"cannot apply: {exc}", line_of(lines, where + ("set", key))) from None
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
