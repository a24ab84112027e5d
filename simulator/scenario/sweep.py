"""The ``sweep:`` key of a scenario and its expansion into design points.

A sweep asks the same question of many versions of one scenario: how does p95 grow with the
offered load, in each style? Each **point** is a set of field assignments, written with the same
dotted paths and the same values as ``--set`` (``workload.rate: 250/s``,
``services.api.instances: 4``), and is validated through the loader's override path, so a bad
path or value gets the same one-line error as ``--set``. Three ways to make points, combined as a
product (every grid combination x every zipped row x every sampled point):

- ``grid``: a full factorial design, one list of values per path;
- ``zip``: paths that move together, lists of equal length (row ``i`` of each);
- ``sample``: a Latin hypercube of ``points`` points over numeric ranges (``low``/``high``,
  optionally ``log``) or lists of ``values``, from :class:`scipy.stats.qmc.LatinHypercube` seeded
  from the scenario seed, so the same file always samples the same points.

Random numbers. With ``streams: common`` (the default) every point keeps the scenario seed, so
points and variants draw the same arrivals and demands, replication by replication (common
random numbers: the differences along a curve come from the design, not from luck). With
``streams: independent`` each point gets its own seed, the first word of
``SeedSequence(seed, spawn_key=(point,))``; either way the engine derives each stream from
``SeedSequence(point seed, spawn_key=(replication, name))``.

This module is a leaf (pydantic, NumPy, SciPy): the scenario format imports it.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from ..strict import Strict

MAX_POINTS = 10_000  #: Most points one sweep may expand to.
_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*)?$")


class SampledParameter(Strict):
    """One dimension of a sampled design: a range (``low``, ``high``, same unit) or a list of ``values``."""

    low: float | int | str | None = Field(default=None, description="lowest value, e.g. 100/s, 1ms or 2")
    high: float | int | str | None = Field(default=None, description="highest value, in the unit of `low`")
    log: bool = Field(default=False, description="sample evenly on a log scale (low and high > 0)")
    values: list[Any] | None = Field(default=None, min_length=1, description="pick one of these instead of a range")

    @model_validator(mode="after")
    def _range_or_values(self) -> "SampledParameter":
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either `values` or `low` and `high`, not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("a sampled parameter needs `low` and `high` (or `values`)")
        (low, unit_low), (high, unit_high) = split_unit(self.low), split_unit(self.high)
        if unit_low != unit_high:
            raise ValueError(f"`low` and `high` must have the same unit (got {self.low!r} and {self.high!r})")
        if not high > low:
            raise ValueError(f"`high` must be greater than `low` (got {self.low!r} and {self.high!r})")
        if self.log and low <= 0:
            raise ValueError("a `log` range needs `low` > 0")
        return self

    @property
    def integer(self) -> bool:
        """Whether the range is of whole numbers (``low`` and ``high`` written as integers)."""
        return isinstance(self.low, int) and isinstance(self.high, int)


class Sample(Strict):
    """A sampled design: ``points`` points spread over the parameters' ranges."""

    points: int = Field(ge=1, le=MAX_POINTS, description="number of points")
    method: Literal["latin_hypercube"] = Field(default="latin_hypercube", description="the sampling design")
    seed: int | None = Field(default=None, ge=0, lt=2**63, description="seed of the design (default: the scenario seed)")
    parameters: dict[str, SampledParameter] = Field(min_length=1, description="dotted path -> range or values")


class SweepChart(Strict):
    """A chart of one metric against one swept path, a line per variant (and other swept values)."""

    metric: str = Field(description="dotted path into a variant's summary, e.g. overall.latency_p99_s or services.db.utilisation")
    against: str = Field(description="a swept path, e.g. services.api.instances")


class Sweep(Strict):
    """``sweep:``: the design points of a scenario (see docs/sweeps.md)."""

    grid: dict[str, list[Any]] = Field(default_factory=dict, description="dotted path -> values; every combination is a point")
    zipped: dict[str, list[Any]] = Field(default_factory=dict, alias="zip", description="dotted path -> values of equal length; row i of each is one point")
    sample: Sample | None = Field(default=None, description="a Latin hypercube over ranges")
    streams: Literal["common", "independent"] = Field(
        default="common", description="common: every point keeps the scenario seed (common random numbers); independent: a seed per point"
    )
    name: str | None = Field(
        default=None, description="name of each point from its values, e.g. '{style.kind}-{workload.rate}' (default: the values joined by '-')"
    )

    charts: list[SweepChart] = Field(
        default_factory=list, description="metrics against swept paths to draw besides the capacity curves (p95 and throughput against offered load)"
    )

    @field_validator("grid", "zipped", mode="before")
    @classmethod
    def _dotted_lists(cls, value: Any) -> Any:
        return flatten_paths(value, is_leaf=lambda node: not isinstance(node, dict))

    @model_validator(mode="before")
    @classmethod
    def _dotted_parameters(cls, data: Any) -> Any:
        sample = data.get("sample") if isinstance(data, dict) else None
        if isinstance(sample, dict) and isinstance(sample.get("parameters"), dict):
            fields = set(SampledParameter.model_fields)
            leaf = lambda node: not isinstance(node, dict) or (bool(node) and set(node) <= fields)  # noqa: E731
            data = {**data, "sample": {**sample, "parameters": flatten_paths(sample["parameters"], is_leaf=leaf)}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> "Sweep":
        if not self.grid and not self.zipped and self.sample is None:
            raise ValueError("a sweep needs a `grid`, a `zip` or a `sample`")
        for block, values in (("grid", self.grid), ("zip", self.zipped)):
            for path, listed in values.items():
                if not listed:
                    raise ValueError(f"{block}.{path}: give at least one value")
        lengths = {path: len(v) for path, v in self.zipped.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{p}: {n}" for p, n in lengths.items())
            raise ValueError(f"zip: every list must have the same length (got {shown})")
        seen: dict[str, str] = {}
        for block, paths in (("grid", self.grid), ("zip", self.zipped), ("sample", self.sample.parameters if self.sample else {})):
            for path in paths:
                if path in seen:
                    raise ValueError(f"{path} is swept twice (in {seen[path]} and {block})")
                seen[path] = block
        if self.name is not None:
            for used in re.findall(r"\{([^}]*)\}", self.name):
                if used not in seen:
                    raise ValueError(f"name: {{{used}}} is not a swept path; swept: {', '.join(seen)}")
        for i, chart in enumerate(self.charts):
            if chart.against not in seen:
                raise ValueError(f"charts[{i}].against: {chart.against} is not a swept path; swept: {', '.join(seen)}")
        total = math.prod(len(v) for v in self.grid.values()) * (len(next(iter(self.zipped.values()))) if self.zipped else 1)
        total *= self.sample.points if self.sample else 1
        if total > MAX_POINTS:
            raise ValueError(f"the sweep has {total:,} points; at most {MAX_POINTS:,} are accepted")
        return self

    def paths(self) -> list[str]:
        """Every swept path, in design order (grid, zip, sample)."""
        return [*self.grid, *self.zipped, *(self.sample.parameters if self.sample else {})]


def flatten_paths(value: Any, is_leaf: Any) -> Any:
    """``{'workload': {'rate': [..]}}`` -> ``{'workload.rate': [..]}``: a swept path written as
    nested mappings, which is what ``--set sweep.grid.workload.rate=[..]`` makes (``--set`` splits
    its path at every dot), is the same path written with dots. Where both spellings name one path,
    the nested one (the override) wins; for sampled parameters its fields are merged into the
    written ones, so ``--set sweep.sample.parameters.workload.rate.high=2000/s`` changes one bound.
    Anything that is not a mapping is returned for the model to refuse."""
    if not isinstance(value, dict):
        return value
    flat: dict[str, Any] = {}
    nested: dict[str, Any] = {}

    def walk(node: dict, prefix: str, into: dict[str, Any]) -> None:
        for key, child in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if is_leaf(child) or not child:
                into[path] = child
            else:
                walk(child, path, nested)

    walk(value, "", flat)
    for path, child in nested.items():
        written = flat.get(path)
        flat[path] = {**written, **child} if isinstance(written, dict) and isinstance(child, dict) else child
    return flat


@dataclass(frozen=True)
class Point:
    """One design point: the assignments it makes, where each value was written, and a name."""

    index: int
    values: dict[str, Any]  #: dotted path -> value, as ``--set`` would take it
    origins: dict[str, tuple[str | int, ...]]  #: dotted path -> where the value is in the file (for errors)
    label: str
    seed: int  #: the scenario seed this point runs with
    sampled: bool = field(default=False)  #: whether any value came from the sampled design


def split_unit(value: float | int | str) -> tuple[float, str]:
    """``'100/s'`` -> ``(100.0, '/s')``, ``2`` -> ``(2.0, '')``; refuses what is not a number with a unit."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value), ""
    match = _NUMBER_WITH_UNIT.match(value)
    if not match:
        raise ValueError(f"expected a number with an optional unit, e.g. 100/s or 2ms, got {value!r}")
    return float(match.group(1)), (match.group(2) or "").strip()


def _sampled_value(spec: SampledParameter, u: float) -> Any:
    """The value at quantile ``u`` (0 <= u < 1) of a sampled parameter."""
    if spec.values is not None:
        return spec.values[min(int(u * len(spec.values)), len(spec.values) - 1)]
    low, unit = split_unit(spec.low)
    high, _ = split_unit(spec.high)
    if spec.integer:
        if spec.log:
            whole = math.floor(math.exp(math.log(low) + u * (math.log(high + 1) - math.log(low))))
        else:
            whole = math.floor(low + u * (high - low + 1))
        return int(min(max(whole, low), high))
    x = math.exp(math.log(low) + u * (math.log(high) - math.log(low))) if spec.log else low + u * (high - low)
    return float(f"{x:.6g}") if not unit else f"{x:.6g}{unit}"


def sample_matrix(sample: Sample, seed: int) -> np.ndarray:
    """``points x parameters`` quantiles in [0, 1) of the Latin hypercube (one row per point)."""
    from scipy.stats import qmc  # imported on use: SciPy's stats package is slow to import

    base = sample.seed if sample.seed is not None else seed
    rng = np.random.default_rng(np.random.SeedSequence(base, spawn_key=(zlib.crc32(b"sweep.sample"),)))
    return qmc.LatinHypercube(d=len(sample.parameters), rng=rng).random(sample.points)


def label_text(value: Any) -> str:
    """A value as a piece of a variant name: ``'250/s'`` -> ``250_s``, ``0.5`` -> ``0.5``."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_-") or "x"


def point_seed(seed: int, index: int, streams: str) -> int:
    """The scenario seed of point ``index``: the scenario's own (common streams) or a derived one."""
    if streams == "common":
        return seed
    return int(np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1, np.uint64)[0] >> np.uint64(1))


def points(sweep: Sweep, seed: int) -> list[Point]:
    """Every point of ``sweep`` in design order: grid paths vary slowest-first as written, then the
    zipped rows, then the sampled points (``itertools.product`` order)."""
    Dimension = list[tuple[dict[str, Any], dict[str, tuple[str | int, ...]], bool]]
    dimensions: list[Dimension] = []
    for path, values in sweep.grid.items():
        dimensions.append([({path: v}, {path: ("sweep", "grid", path, i)}, False) for i, v in enumerate(values)])
    if sweep.zipped:
        rows = len(next(iter(sweep.zipped.values())))
        dimensions.append([
            ({p: v[i] for p, v in sweep.zipped.items()}, {p: ("sweep", "zip", p, i) for p in sweep.zipped}, False) for i in range(rows)
        ])
    if sweep.sample is not None:
        matrix = sample_matrix(sweep.sample, seed)
        names = list(sweep.sample.parameters)
        dimensions.append([
            (
                {p: _sampled_value(sweep.sample.parameters[p], float(row[j])) for j, p in enumerate(names)},
                {p: ("sweep", "sample", "parameters", p) for p in names},
                True,
            )
            for row in matrix
        ])
    out: list[Point] = []
    labels: set[str] = set()
    for index, combination in enumerate(itertools.product(*dimensions)):
        values: dict[str, Any] = {}
        origins: dict[str, tuple[str | int, ...]] = {}
        for assigned, where, _ in combination:
            values.update(assigned)
            origins.update(where)
        sampled = any(s for _, _, s in combination)
        label = _label(sweep, values, index, sampled)
        if label in labels:
            label = f"{label}-{index}"
        labels.add(label)
        out.append(Point(index, values, origins, label, point_seed(seed, index, sweep.streams), sampled))
    return out


def _label(sweep: Sweep, values: dict[str, Any], index: int, sampled: bool) -> str:
    if sweep.name is not None:
        return label_text(re.sub(r"\{([^}]*)\}", lambda m: label_text(values[m.group(1)]), sweep.name))
    if sampled:  # sampled values are long numbers: name the point by its number
        fixed = [label_text(v) for p, v in values.items() if p in sweep.grid or p in sweep.zipped]
        return "-".join([*fixed, f"p{index:03d}"])
    return "-".join(label_text(v) for v in values.values())
