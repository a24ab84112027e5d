"""Scenario files: the format (:mod:`.model`), loading with one-line errors (:mod:`.load`), and
cross-field rules (:mod:`.checks`)."""

from .load import LoadedScenario, Variant, load_scenario
from .model import Scenario

__all__ = ["LoadedScenario", "Scenario", "Variant", "load_scenario"]
