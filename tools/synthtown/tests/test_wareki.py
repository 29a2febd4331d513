from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest
from mimamori.synthtown.wareki import WarekiStyle, format_wareki

STYLES = {
    "short_reiwa": re.compile(r"R\d+\.\d{1,2}\.\d{1,2}"),
    "short_heisei": re.compile(r"H\d+\.\d{1,2}\.\d{1,2}"),
    "long_reiwa": re.compile(r"令和\d+年\d{1,2}月\d{1,2}日"),
    "long_heisei": re.compile(r"平成\d+年\d{1,2}月\d{1,2}日"),
}


def test_wareki_text_in_each_documented_style() -> None:
    assert format_wareki(date(2023, 4, 1), WarekiStyle.SHORT) == "R5.4.1"
    assert format_wareki(date(2023, 4, 1), WarekiStyle.LONG) == "令和5年4月1日"
    assert format_wareki(date(2018, 12, 25), WarekiStyle.SHORT) == "H30.12.25"
    assert format_wareki(date(2018, 12, 25), WarekiStyle.LONG) == "平成30年12月25日"
    assert format_wareki(date(2019, 5, 1), WarekiStyle.LONG_GANNEN) == "令和元年5月1日"
    assert format_wareki(date(2019, 5, 1), WarekiStyle.LONG) == "令和1年5月1日"


def test_wareki_era_boundaries() -> None:
    assert format_wareki(date(2019, 4, 30), WarekiStyle.SHORT) == "H31.4.30"
    assert format_wareki(date(1989, 1, 8), WarekiStyle.SHORT) == "H1.1.8"
    with pytest.raises(ValueError):
        format_wareki(date(1989, 1, 7), WarekiStyle.SHORT)


def test_excel_lists_hold_every_wareki_style_and_real_date_cells(town: Any) -> None:
    seen: set[str] = set()
    for source in ("ssw_soudan", "gyakutai_tsukoku", "seiho", "shugaku_enjo"):
        for row in town.rows(source, town.truth.months[-1]):
            for value in row.values():
                if isinstance(value, datetime):
                    seen.add("date_cell")
                elif isinstance(value, str):
                    seen |= {name for name, pattern in STYLES.items() if pattern.fullmatch(value)}
    assert seen == {*STYLES, "date_cell"}


def test_every_excel_date_reads_back_to_the_true_date(town: Any) -> None:
    month = town.truth.months[-1]
    path = town.path("gyakutai_tsukoku", month)
    for row, refs in zip(town.rows("gyakutai_tsukoku", month), town.truth.rows[path.name], strict=True):
        person = town.truth.persons[refs[0].truth_id]
        assert town.parse_date(row["生年月日"]) == person.birth_date
