"""山北町's adapter package passes Mimamori's conformance kit, and its spec does what the town needs."""

from __future__ import annotations

import pytest
from mimamori_adapters_yamakita import MUNICIPALITY, adapters
from mimamori_adapters_yamakita.hooks import pad_atena_no

from mimamori.ingest import conformance
from mimamori.ingest.adapters.layouts import load_layouts


@pytest.mark.parametrize("check", sorted(conformance.CHECKS))
def test_conformance(check: str) -> None:
    conformance.assert_check(check, adapters())


def test_the_package_is_found_through_its_entry_point_for_its_town_only() -> None:
    mine = load_layouts(MUNICIPALITY)["jidou_fuyou"]
    assert mine.origin == "mimamori-adapters-yamakita" and mine.row_hook is pad_atena_no
    assert load_layouts("143669")["jidou_fuyou"].origin == "mimamori-ingest"


@pytest.mark.parametrize(
    ("given", "restored"),
    [("2000031", "0002000031"), ("１０００００００２５", "1000000025"), ("1000000017", "1000000017"), ("12a", "12a")],
)
def test_atena_no_is_restored_to_ten_digits(given: str, restored: str) -> None:
    assert pad_atena_no([given, "x"]) == [restored, "x"]
