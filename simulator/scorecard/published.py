"""Published star ratings of architecture styles, for comparison with what the runs measure.

Source: Mark Richards and Neal Ford, *Fundamentals of Software Architecture: An Engineering
Approach*, O'Reilly, 2020 (1st edition), Part II. Each style chapter ends with an
"Architecture Characteristics Ratings" figure: layered Fig. 10-6 (ch. 10), microkernel Fig. 12-8
(ch. 12), service-based Fig. 13-9 (ch. 13), event-driven Fig. 14-22 (ch. 14), space-based
Fig. 15-15 (ch. 15), microservices (ch. 17). One to five stars, more stars = the style supports
the characteristic better.

**Overall cost.** In the 1st (2020) edition cost is a star row like the others, so more stars means
*cheaper*: layered and microkernel get five stars, microservices one. The 2nd edition (2025)
replaced it with dollar signs, where more ``$`` means *more expensive* (layered ``$``,
microservices ``$$$$$``), and re-rated several styles. Everything here is the 1st edition; the
``cost`` stars below therefore read "more = cheaper", as the scorecard's measured cost stars do.
Never mix in 2nd-edition numbers.

Verification (re-check without a copy of the book at hand): the figures are images, so each value
was checked against secondary transcriptions of the 1st-edition tables, at least two independent
ones per style, plus the book's own prose where it states a rating (see ``docs/scorecard.md``):
SegersIan/architecture-handbook ``architecture-styles/*.md`` (all six styles); an Obsidian notes
vault with one note per style (layered, service-based, event-driven, space-based, microservices);
per-chapter reading notes (layered); bookforge-ai/bookforge-skills, fundamentals-of-software-
architecture skills (microservices full table; microkernel simplicity 4 / cost 5, service-based
elasticity 2, event-driven performance 5 / scalability 5, space-based elasticity 5); the ch. 12
and ch. 13 text (microkernel: "simplicity and overall cost are the main strengths ... scalability,
fault tolerance ... its main weaknesses"; service-based: no five-star rating, fault tolerance and
deployability four stars, scalability three, elasticity two). Microkernel performance (3) and
deployability (3) rest on one full transcription only; the 2nd edition's table gives the same
three stars (responsiveness, deployability). All 42 values used by the scorecard agreed across
the sources; none was changed by the re-check.

"monolith" is read as the book's layered architecture, its monolithic baseline.
"""

from __future__ import annotations

CITATION = (
    "M. Richards and N. Ford, Fundamentals of Software Architecture: An Engineering Approach, "
    "1st ed., O'Reilly Media, 2020, Part II (architecture characteristics ratings of each style, "
    "Figs. 10-6, 12-8, 13-9, 14-22, 15-15 and ch. 17); overall cost in stars, more = cheaper"
)

#: Style -> characteristic -> stars (1-5, more is better; for cost more stars means cheaper).
#: These seven are the characteristics the scorecard measures. A value that could not be
#: verified would be ``None`` (``published_stars`` then returns None and no comparison is made);
#: at present every value is verified.
RATINGS: dict[str, dict[str, int | None]] = {
    "monolith": {  # layered architecture, ch. 10, Fig. 10-6
        "performance": 2, "scalability": 1, "elasticity": 1, "fault_tolerance": 1,
        "cost": 5, "deployability": 1, "simplicity": 5,
    },
    "microkernel": {  # ch. 12, Fig. 12-8 (performance, deployability: single transcription)
        "performance": 3, "scalability": 1, "elasticity": 1, "fault_tolerance": 1,
        "cost": 5, "deployability": 3, "simplicity": 4,
    },
    "service-based": {  # ch. 13, Fig. 13-9
        "performance": 3, "scalability": 3, "elasticity": 2, "fault_tolerance": 4,
        "cost": 4, "deployability": 4, "simplicity": 3,
    },
    "event-driven": {  # ch. 14, Fig. 14-22
        "performance": 5, "scalability": 5, "elasticity": 3, "fault_tolerance": 5,
        "cost": 3, "deployability": 3, "simplicity": 1,
    },
    "space-based": {  # ch. 15, Fig. 15-15
        "performance": 5, "scalability": 5, "elasticity": 5, "fault_tolerance": 3,
        "cost": 2, "deployability": 3, "simplicity": 1,
    },
    "microservices": {  # ch. 17
        "performance": 2, "scalability": 5, "elasticity": 5, "fault_tolerance": 4,
        "cost": 1, "deployability": 4, "simplicity": 1,
    },
}

#: The book's other rows, which the scorecard does not measure (for reference only). ``None``
#: where the transcriptions disagree: event-driven modularity (4 vs 3) and space-based number of
#: quanta ("1" vs "1 to many"). Microkernel values come from a single full transcription.
OTHER_RATINGS: dict[str, dict[str, int | str | None]] = {
    "monolith": {"partitioning": "technical", "quanta": "1", "modularity": 1,
                 "evolutionary": 1, "reliability": 3, "testability": 2},
    "microkernel": {"partitioning": "domain and technical", "quanta": "1", "modularity": 3,
                    "evolutionary": 3, "reliability": 3, "testability": 3},
    "service-based": {"partitioning": "domain", "quanta": "1 to many", "modularity": 4,
                      "evolutionary": 3, "reliability": 4, "testability": 4},
    "event-driven": {"partitioning": "technical", "quanta": "1 to many", "modularity": None,
                     "evolutionary": 5, "reliability": 3, "testability": 2},
    "space-based": {"partitioning": "domain and technical", "quanta": None, "modularity": 3,
                    "evolutionary": 3, "reliability": 4, "testability": 1},
    "microservices": {"partitioning": "domain", "quanta": "1 to many", "modularity": 5,
                      "evolutionary": 5, "reliability": 4, "testability": 4},
}


def published_stars(style: str | None, characteristic: str) -> int | None:
    """Richards & Ford's stars for ``style`` on ``characteristic``, or None if they give none
    (or the value is unverified)."""
    if style is None:
        return None
    return RATINGS.get(style, {}).get(characteristic)
