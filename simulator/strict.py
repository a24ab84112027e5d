"""The one strict pydantic base of every scenario section.

Unknown keys are errors (a typo never silently does nothing), fields may be given by name or by
alias, defaults are validated too, and no float field takes NaN or ±infinity: a scenario number is
always finite (its domain, e.g. ``> 0``, is then checked by the field's own bounds).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

STRICT_CONFIG = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True, allow_inf_nan=False)


class Strict(BaseModel):
    """Base of every scenario section: unknown keys are errors, every float is finite."""

    model_config = STRICT_CONFIG
