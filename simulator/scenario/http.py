"""The HTTP request a request class stands for: what ``archsim loadtest`` sends with no locustfile.

A class's ``http:`` block names a method, a path template, query parameters, headers, a body and
the expected status; ``{name}`` in the path, the query, the headers, the body or any string of
``json`` is replaced by parameter ``name``, drawn afresh for every request::

    classes:
      home: {http: {method: GET, path: /}}
      item:
        http:
          path: /items/{id}
          params:
            id: {uniform_int: [1, 1000]}      # or zipf, choice, a list, counter, uuid, distribution
          headers: {Accept: application/json}
          expect: 200
      order:
        http:
          method: POST
          path: /orders
          params: {sku: [a-1, b-2, c-3], qty: {uniform_int: [1, 3]}}
          json: {sku: "{sku}", quantity: "{qty}"}   # a string that is one placeholder keeps the value's type
          expect: [201, 202]

A parameter is one of: a list (each value equally likely), ``{choice: [...], weights: [...]}``,
``{uniform_int: [low, high]}`` (inclusive), ``{uniform: [low, high]}``, ``{zipf: {n: 1000, s: 1.1}}``
(item ``k`` of ``1..n`` with weight ``1/k**s``: a few popular items), ``{counter: start}`` (start,
start+1, ... per load-generator process), ``{uuid: true}``, or ``{distribution: exp(100ms)}``
(any of the scenario's distributions, drawn in seconds). Write ``{{`` and ``}}`` for literal
braces. Without ``expect`` any 2xx or 3xx status is a success.
"""

from __future__ import annotations

import bisect
import itertools
import json as jsonlib
import math
import random
import string
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from ..distributions import Distribution
from ..strict import Strict

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
Scalar = str | int | float | bool
PARAM_KINDS = ("choice", "uniform_int", "uniform", "zipf", "counter", "uuid", "distribution")


class Zipf(Strict):
    n: int = Field(ge=1, le=10_000_000, description="items 1..n")
    s: float = Field(default=1.0, gt=0, le=10, description="skew: item k has weight 1/k**s")


def _list_is_choice(value: Any) -> Any:
    if isinstance(value, list):
        return {"choice": value}
    return value


class Param(Strict):
    """How one template parameter is drawn: exactly one of the kinds."""

    choice: list[Scalar] | None = Field(default=None, min_length=1, description="values, equally likely unless weights")
    weights: list[float] | None = Field(default=None, description="with choice: relative weights")
    uniform_int: tuple[int, int] | None = Field(default=None, description="[low, high], inclusive")
    uniform: tuple[float, float] | None = Field(default=None, description="[low, high)")
    zipf: Zipf | None = None
    counter: int | None = Field(default=None, description="first value; then +1 per request")
    uuid: Literal[True] | None = Field(default=None, description="a random UUID per request")
    distribution: Distribution | None = Field(default=None, description="a scenario distribution, drawn in seconds")

    @model_validator(mode="after")
    def _one_kind(self) -> "Param":
        kinds = [k for k in PARAM_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a parameter is exactly one of: a list, {', '.join(PARAM_KINDS)} (got {', '.join(kinds) or 'none'})")
        if self.weights is not None:
            if self.choice is None or len(self.weights) != len(self.choice):
                raise ValueError("weights need a choice with as many values")
            if any(not math.isfinite(w) or w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be finite, >= 0 and not all 0")
        for pair in (self.uniform_int, self.uniform):
            if pair is not None and (not all(math.isfinite(v) for v in pair) or pair[0] > pair[1]):
                raise ValueError(f"[low, high] needs finite low <= high, got {list(pair)}")
        return self

    def sampler(self, rng: random.Random) -> Callable[[], Any]:
        """A zero-argument callable drawing this parameter with ``rng``."""
        if self.choice is not None:
            values = list(self.choice)
            if self.weights is None:
                return lambda: rng.choice(values)
            cumulative = list(itertools.accumulate(self.weights))
            return lambda: values[min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(values) - 1)]
        if self.uniform_int is not None:
            low, high = self.uniform_int
            return lambda: rng.randint(low, high)
        if self.uniform is not None:
            low, high = self.uniform
            return lambda: rng.uniform(low, high)
        if self.zipf is not None:
            cumulative = np.cumsum(1.0 / np.arange(1, self.zipf.n + 1) ** self.zipf.s)
            total = float(cumulative[-1])
            return lambda: int(np.searchsorted(cumulative, rng.random() * total, side="right")) + 1
        if self.counter is not None:
            counter = itertools.count(self.counter)
            return lambda: next(counter)
        if self.uuid:
            return lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))
        draw = self.distribution.sampler(np.random.default_rng(rng.getrandbits(64)))
        return lambda: float(draw())


ParamField = Annotated[Param, BeforeValidator(_list_is_choice)]


def _statuses(value: Any) -> Any:
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


def _fields(template: str) -> list[str]:
    """Placeholder names in a ``{name}`` template (``ValueError`` if malformed)."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} in {template!r}: "
                             "write {name} with a parameter's name, or {{ and }} for literal braces")
        names.append(name)
    return names


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class HttpRequest(Strict):
    """A request class as an HTTP request (``classes.<name>.http``)."""

    method: Method = "GET"
    path: str = Field(description="path template, e.g. /items/{id}; relative to --host")
    params: dict[str, ParamField] = Field(default_factory=dict, description="template parameters, drawn per request")
    query: dict[str, Scalar] = Field(default_factory=dict, description="query string; values may be templates")
    headers: dict[str, str] = Field(default_factory=dict, description="values may be templates")
    body: str | None = Field(default=None, description="a text body template")
    json_body: Any = Field(default=None, alias="json", description="a JSON body; its strings may be templates")
    expect: Annotated[list[int], BeforeValidator(_statuses)] | None = Field(
        default=None, min_length=1, description="status code(s) that mean success (default: any 2xx or 3xx)")

    @model_validator(mode="after")
    def _templates(self) -> "HttpRequest":
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/', got {self.path!r}")
        if self.body is not None and self.json_body is not None:
            raise ValueError("give `body` or `json`, not both")
        if self.expect and any(not 100 <= s <= 599 for s in self.expect):
            raise ValueError(f"expect: status codes are 100-599, got {self.expect}")
        used = set()
        for text in [self.path, *map(str, self.query.values()), *self.headers.values(), *( [self.body] if self.body else []), *_strings(self.json_body)]:
            used.update(_fields(text))
        unknown = sorted(used - set(self.params))
        if unknown:
            raise ValueError(f"placeholder {{{unknown[0]}}} has no parameter: define it under `params` (defined: {', '.join(self.params) or 'none'})")
        return self

    def accepts(self, status: int) -> bool:
        return status in self.expect if self.expect else 200 <= status < 400

    def renderer(self, rng: random.Random) -> Callable[[], tuple[str, str, dict[str, str], bytes | None]]:
        """A callable returning ``(method, path with query, headers, body)`` with fresh parameters."""
        samplers = {name: param.sampler(rng) for name, param in self.params.items()}
        headers = dict(self.headers)
        if self.json_body is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"

        def fill(template: str, values: dict[str, Any], escape: bool = False) -> str:
            shown = {k: quote(str(v), safe="") for k, v in values.items()} if escape else values
            return template.format(**shown)

        def fill_json(value: Any, values: dict[str, Any]) -> Any:
            if isinstance(value, str):
                names = _fields(value)
                if len(names) == 1 and value == "{" + names[0] + "}":
                    return values[names[0]]  # the value itself, with its type
                return fill(value, values)
            if isinstance(value, dict):
                return {fill(k, values): fill_json(v, values) for k, v in value.items()}
            if isinstance(value, list):
                return [fill_json(v, values) for v in value]
            return value

        def render() -> tuple[str, str, dict[str, str], bytes | None]:
            values = {name: draw() for name, draw in samplers.items()}
            path = fill(self.path, values, escape=True)
            if self.query:
                path += ("&" if "?" in path else "?") + urlencode({k: fill(str(v), values) for k, v in self.query.items()})
            body = None
            if self.body is not None:
                body = fill(self.body, values).encode()
            elif self.json_body is not None:
                body = jsonlib.dumps(fill_json(self.json_body, values)).encode()
            return self.method, path, {k: fill(v, values) for k, v in headers.items()}, body

        return render
