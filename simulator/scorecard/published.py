"""Published star ratings of architecture styles, for comparison with what the runs measure.

Source: Mark Richards and Neal Ford, *Fundamentals of Software Architecture: An Engineering
Approach*, O'Reilly, 2020, Part II. Each style's chapter ends with a table of architecture
characteristic ratings, one to five stars, where more stars means the style supports the
characteristic better. For **overall cost** that means *cheaper*: the layered monolith gets five
stars, microservices one.

Only the seven characteristics the scorecard measures are transcribed. They were transcribed from
the chapter summary tables (layered ch. 10, microkernel ch. 12, service-based ch. 13,
event-driven ch. 14, space-based ch. 15, microservices ch. 17); check them against your copy
before quoting them (``docs/scorecard.md`` says so too). "monolith" is read as the book's layered
architecture, its monolithic baseline.
"""

from __future__ import annotations

CITATION = (
    "M. Richards and N. Ford, Fundamentals of Software Architecture: An Engineering Approach, "
    "O'Reilly Media, 2020, Part II (architecture characteristics ratings of each style)"
)

#: Style -> characteristic -> stars (1-5, more is better; for cost more stars means cheaper).
RATINGS: dict[str, dict[str, int]] = {
    "monolith": {  # layered architecture, ch. 10
        "performance": 2, "scalability": 1, "elasticity": 1, "fault_tolerance": 1,
        "cost": 5, "deployability": 1, "simplicity": 5,
    },
    "microkernel": {  # ch. 12
        "performance": 3, "scalability": 1, "elasticity": 1, "fault_tolerance": 1,
        "cost": 5, "deployability": 3, "simplicity": 4,
    },
    "service-based": {  # ch. 13
        "performance": 3, "scalability": 3, "elasticity": 2, "fault_tolerance": 4,
        "cost": 4, "deployability": 4, "simplicity": 3,
    },
    "event-driven": {  # ch. 14
        "performance": 5, "scalability": 5, "elasticity": 3, "fault_tolerance": 5,
        "cost": 3, "deployability": 3, "simplicity": 1,
    },
    "space-based": {  # ch. 15
        "performance": 5, "scalability": 5, "elasticity": 5, "fault_tolerance": 3,
        "cost": 2, "deployability": 3, "simplicity": 1,
    },
    "microservices": {  # ch. 17
        "performance": 2, "scalability": 5, "elasticity": 5, "fault_tolerance": 4,
        "cost": 1, "deployability": 4, "simplicity": 1,
    },
}


def published_stars(style: str | None, characteristic: str) -> int | None:
    """Richards & Ford's stars for ``style`` on ``characteristic``, or None if they give none."""
    if style is None:
        return None
    return RATINGS.get(style, {}).get(characteristic)
