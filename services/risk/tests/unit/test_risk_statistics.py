"""Correlations between indicators: phi, co-occurrence, and small cells suppressed whole."""

from __future__ import annotations

import pytest

from mimamori.risk.domain.statistics import Indicators, phi


def test_phi_of_perfect_opposite_and_independent_tables() -> None:
    assert phi(10, 0, 0, 10) == pytest.approx(1.0)
    assert phi(0, 10, 10, 0) == pytest.approx(-1.0)
    assert phi(5, 5, 5, 5) == pytest.approx(0.0)
    assert phi(10, 0, 10, 0) is None  # the first indicator always holds: no variation


def town(both: int, first_only: int, second_only: int, neither: int) -> Indicators:
    indicators = Indicators()
    n = 0
    for a, b, count in (
        (True, True, both),
        (True, False, first_only),
        (False, True, second_only),
        (False, False, neither),
    ):
        for _ in range(count):
            n += 1
            indicators.add(f"c{n}", {"x": a, "y": b})
    return indicators


def test_a_pair_is_counted_over_the_children_both_indicators_were_assessed_on() -> None:
    indicators = town(20, 10, 6, 30)
    indicators.add("only-x", {"x": True})  # not assessed on y: not in the pair
    [pair] = indicators.pairs(min_cell=5)
    assert (pair.children, pair.both, pair.suppressed) == (66, 20, False)
    assert pair.phi == pytest.approx(phi(20, 10, 6, 30), abs=1e-4)
    counts = {c.indicator: (c.children, c.holds) for c in indicators.counts(min_cell=5)}
    assert counts == {"x": (67, 31), "y": (66, 26)}


def test_a_pair_with_any_small_cell_is_suppressed_whole() -> None:
    [pair] = town(20, 10, 4, 30).pairs(min_cell=5)
    assert pair.suppressed and (pair.children, pair.both, pair.phi) == (None, None, None)


def test_an_indicator_that_holds_for_almost_everyone_hides_its_count() -> None:
    counts = {c.indicator: c for c in town(40, 38, 0, 3).counts(min_cell=5)}
    assert counts["x"].holds is None  # 3 children without it would follow from the total
    assert counts["y"].holds == 40
