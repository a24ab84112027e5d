"""Validation failures as the one-line scenario error: field paths, lines, and what is expected.

Shared by the scenario loader and by :mod:`simulator.scenario.styles` (which validates the ``application``
and ``style`` sections itself): a field path is written ``services.api.calls[0]``, names and values
the user wrote are escaped and shortened (:func:`simulator.suggest.shown`), a "did you mean" never
suggests the name itself, and "(N more errors)" counts distinct fields.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ScenarioError
from ..suggest import MAX_SHOWN, did_you_mean, quoted, shown

Path_ = tuple[str | int, ...]


def format_path(path: Path_) -> str:
    """``('services', 'api', 'operations', 'get', 'calls', 0)`` -> ``services.api.operations.get.calls[0]``."""
    out = ""
    for part in path:
        text = shown(part, 60)
        out += f"[{text}]" if isinstance(part, int) else (f".{text}" if out else text)
    return shown(out, MAX_SHOWN)


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def vocabulary(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every field name (by its alias) reachable from ``model``: the words 'did you mean' picks from."""
    seen = set() if seen is None else seen
    if model in seen:
        return set()
    seen.add(model)
    words: set[str] = set()
    for name, info in model.model_fields.items():
        words.add(info.alias or name)
        for sub in _models_in(info.annotation):
            words |= vocabulary(sub, seen)
    return words


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_models_in(arg))
    return out


def data_path(loc: tuple[Any, ...], data: Any) -> Path_:
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


def describe(error: dict[str, Any], path: Path_, known_fields: set[str]) -> str:
    """What one pydantic error expects, in the user's words (one line)."""
    kind = error["type"]
    msg = " ".join(str(error["msg"]).split())
    if kind == "extra_forbid" or kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        if key in known_fields:
            return f"unknown field {quoted(key)} here (it is a field of another section)"
        return f"unknown field {quoted(key)}{did_you_mean(key, known_fields)}"
    if kind == "missing":
        field = error["loc"][-1] if error["loc"] and isinstance(error["loc"][-1], str) else None
        if field and (not path or path[-1] != field):
            return f"required field {quoted(field)} is missing"
        return "required field is missing"
    inner = error["loc"][-1] if error["loc"] else None
    # a parameter inside a short form, e.g. the cv of lognormal(10ms, cv=...), is not in the path
    inner = f"{inner}: " if isinstance(inner, str) and (not path or path[-1] != inner) and inner.isidentifier() else ""
    if kind == "finite_number":
        return f"{inner}must be a finite number (got {shown(error.get('input'), 60)})"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    msg = shown(msg, 2 * MAX_SHOWN)
    msg = inner + (msg[0].lower() + msg[1:] if msg else msg)
    value = error.get("input")
    if kind not in ("value_error", "model_type", "union_tag_invalid") and not isinstance(value, (dict, list)):
        return f"{msg} (got {shown(repr(value), 60)})"
    return msg


def raise_validation(
    file: str,
    exc: ValidationError,
    data: Any,
    lines: dict[Path_, int],
    prefix: Path_ = (),
    known_fields: set[str] | None = None,
) -> typing.NoReturn:
    """Raise the first (most specific) of ``exc``'s errors as a :class:`ScenarioError`.

    ``known_fields`` are the words "did you mean" picks from (default: every scenario field).
    "(N more errors)" counts the other fields with errors, not pydantic's per-alternative entries.
    """
    errors = exc.errors(include_url=False)
    # Report the most specific error first: unknown fields and bad values before "missing".
    errors.sort(key=lambda e: (e["type"] == "missing", -len(e["loc"])))
    error = errors[0]
    path = data_path(error["loc"], data)
    if known_fields is None:
        from .model import Scenario

        known_fields = vocabulary(Scenario)
    full = prefix + path
    others = len({data_path(e["loc"], data) for e in errors} - {path})
    extra = f" ({others} more error{'s' if others > 1 else ''})" if others else ""
    raise ScenarioError(file, format_path(full), describe(error, path, known_fields) + extra, line_of(lines, full)) from None
