"""The numbers a calibrated model is made of, each a :class:`~.estimate.Fitted` with its source."""

from __future__ import annotations

from dataclasses import dataclass, field

from .estimate import Fitted

Operation = tuple[str, str]  #: (tier, operation)


@dataclass
class ModelParameters:
    """Demand and shape per operation, the one-way cost of a hop, and of a client round trip when told apart."""

    demands: dict[Operation, Fitted]
    cv: dict[Operation, Fitted]
    hop_s: Fitted
    notes: list[str] = field(default_factory=list)
    client_hop_s: Fitted | None = None  #: One-way cost of each client round trip; None: the same as ``hop_s``.
    interleaved: bool = False  #: Operations give their core up at each downstream call (asyncio): demands are written as segments.

    def to_json(self) -> dict[str, object]:
        return {
            "demands": {f"{t}.{o}": f.to_json() for (t, o), f in self.demands.items()},
            "cv": {f"{t}.{o}": f.to_json() for (t, o), f in self.cv.items()},
            "hop_s": self.hop_s.to_json(),
            "client_hop_s": None if self.client_hop_s is None else self.client_hop_s.to_json(),
            "interleaved": self.interleaved,
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
            None if data.get("client_hop_s") is None else Fitted.from_json(data["client_hop_s"]),
            bool(data.get("interleaved", False)),
        )
