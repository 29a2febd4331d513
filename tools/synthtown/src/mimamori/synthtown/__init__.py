"""Deterministic synthetic town: the 19 monthly export files of 開成町's systems, with ground truth."""

from mimamori.synthtown.bulk import write_jumin_rows
from mimamori.synthtown.town import generate_town
from mimamori.synthtown.truth import TownTruth, TruthPerson

__all__ = ["TownTruth", "TruthPerson", "generate_town", "write_jumin_rows"]
