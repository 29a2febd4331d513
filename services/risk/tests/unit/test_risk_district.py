"""The district (大字) of an address, as 住民記録 and other systems write it."""

from __future__ import annotations

import pytest

from mimamori.risk.domain.district import district_of


@pytest.mark.parametrize(
    ("address", "district"),
    [
        ("神奈川県足柄上郡開成町延沢１２３番地の４", "延沢"),
        ("神奈川県足柄上郡開成町吉田島４５番地　メゾン開成１０２", "吉田島"),
        ("開成町みなみ1-2", "みなみ"),
        ("足柄上郡開成町 金井島 ７番地", "金井島"),
        ("神奈川県足柄上郡大井町金子１番地", ""),  # a neighbouring town
        ("", ""),
    ],
)
def test_the_district_is_the_part_between_the_town_and_the_number(address: str, district: str) -> None:
    assert district_of(address, town="開成町") == district
