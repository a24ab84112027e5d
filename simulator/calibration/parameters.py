"""The numbers a calibrated model is made of, each a :class:`~.estimate.Fitted` with its source."""

from __future__ import annotations

from dataclasses import dataclass, field

from .estimate import Fitted

Operation = tuple[str, str]  #: (tier, operation)


@dataclass
class ModelParameters:
    """Demand and shape per operation, and the one-way cost of a hop."""

    demands: dict[Operation, Fitted]
    cv: dict[Operation, Fitted]
    hop_s: Fitted
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "demands": {f"{t}.{o}": f.to_json() for (t, o), f in self.demands.items()},
            "cv": {f"{t}.{o}": f.to_json() for (t, o), f in self.cv.items()},
            "hop_s": self.hop_s.to_json(),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict) -> "ModelParameters":
        def key(text: str) -> Operation:
            tier, _, op = text.partition(".")
            return tier, op

        return cls(
            {key(k): Fitted.from_json(v) for k, v in data["demands"].items()},
            {key(k): Fitted.from_json(v) for k, v in data["cv"].items()},
            Fitted.from_json(data["hop_s"]),
            list(data.get("notes", [])),
        )
