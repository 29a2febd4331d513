"""Correlations between indicators across children, safe for 施策立案のための統計 (policy statistics).

An indicator is a yes/no per scored child: a rule's candidacy, a sub-score above zero, an item that gave points.
For each pair of indicators, over the children both were assessed on, the 2x2 table (both, only the first, only
the second, neither) gives the co-occurrence count and the phi coefficient. A pair whose table holds a cell under
the minimum is suppressed whole (count and phi): any one cell follows from the others and the margins, so hiding
only the small one would not hide it. An indicator's own count is suppressed when it, or its complement, is small.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IndicatorCount:
    """How many children an indicator was assessed on, and how many it holds for (None: suppressed)."""

    indicator: str
    children: int | None
    holds: int | None


@dataclass(frozen=True, slots=True)
class Pair:
    """Two indicators over the children both were assessed on (None: suppressed)."""

    first: str
    second: str
    children: int | None
    both: int | None
    phi: float | None
    suppressed: bool


def phi(both: int, first_only: int, second_only: int, neither: int) -> float | None:
    """The phi coefficient of a 2x2 table; None when a margin is empty (no variation)."""
    first, second = both + first_only, both + second_only
    rest_first, rest_second = second_only + neither, first_only + neither
    denominator = first * second * rest_first * rest_second
    if denominator == 0:
        return None
    return (both * neither - first_only * second_only) / math.sqrt(denominator)


class Indicators:
    """Yes/no indicators per child, kept as bit sets (one bit per child) so every pair is a few popcounts."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._assessed: dict[str, int] = {}
        self._holds: dict[str, int] = {}

    def add(self, person_id: str, values: Mapping[str, bool]) -> None:
        """A child's value of each indicator they were assessed on."""
        bit = 1 << self._index.setdefault(person_id, len(self._index))
        for name, value in values.items():
            self._assessed[name] = self._assessed.get(name, 0) | bit
            if value:
                self._holds[name] = self._holds.get(name, 0) | bit
            else:
                self._holds.setdefault(name, 0)

    @property
    def names(self) -> list[str]:
        """Every indicator seen, sorted."""
        return sorted(self._assessed)

    def counts(self, *, min_cell: int) -> list[IndicatorCount]:
        """Each indicator's children and how many it holds for; small cells (or small complements) hidden."""
        found = []
        for name in self.names:
            n = self._assessed[name].bit_count()
            holds = self._holds[name].bit_count()
            small = min(holds, n - holds) < min_cell
            found.append(IndicatorCount(name, n if n >= min_cell else None, None if small else holds))
        return found

    def pairs(self, *, min_cell: int, names: Iterable[str] | None = None) -> list[Pair]:
        """Every pair of indicators, each over the children both were assessed on."""
        chosen = sorted(names) if names is not None else self.names
        found = []
        for i, first in enumerate(chosen):
            for second in chosen[i + 1 :]:
                common = self._assessed[first] & self._assessed[second]
                a, b = self._holds[first] & common, self._holds[second] & common
                both = (a & b).bit_count()
                first_only = (a & ~b).bit_count()
                second_only = (b & ~a).bit_count()
                neither = common.bit_count() - both - first_only - second_only
                if min(both, first_only, second_only, neither) < min_cell:
                    found.append(Pair(first, second, None, None, None, True))
                    continue
                value = phi(both, first_only, second_only, neither)
                found.append(
                    Pair(
                        first,
                        second,
                        common.bit_count(),
                        both,
                        round(value, 4) if value is not None else None,
                        False,
                    )
                )
        return found
