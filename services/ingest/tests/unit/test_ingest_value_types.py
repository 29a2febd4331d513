"""Value types of the layout specs: 和暦 in every style and at the era boundaries, Excel serials, western forms,
partial 住民記録 dates, months, integers, normalised codes."""

from __future__ import annotations

import datetime as dt

import pytest

from mimamori.ingest.domain.dates import OutsideEra, parse_excel_serial, parse_wareki
from mimamori.ingest.domain.layout import Code, Date, DateTime, Flag, Integer, Month

WAREKI = Date(format="wareki", excel_serial=True)


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("R5.4.1", "2023-04-01"),
        ("令和5年4月1日", "2023-04-01"),
        ("H30.12.25", "2018-12-25"),
        ("平成30年12月25日", "2018-12-25"),
        ("令和元年5月1日", "2019-05-01"),
        ("R元.5.1", "2019-05-01"),
        ("平成元年1月8日", "1989-01-08"),
        ("H31.4.30", "2019-04-30"),
        ("S64.1.7", "1989-01-07"),
        ("昭和64年1月7日", "1989-01-07"),
        ("昭和元年12月25日", "1926-12-25"),
        ("S50/3/1", "1975-03-01"),
        ("Ｒ５．４．１", "2023-04-01"),  # typed full-width: read as ASCII, kept as given
        ("令和 5年 4月 1日", "2023-04-01"),
        ("2023-04-01", "2023-04-01"),  # a date cell
        ("2023/4/1", "2023-04-01"),
        ("45017", "2023-04-01"),  # an Excel serial in a cell without a date format
    ],
)
def test_wareki_styles_and_date_cells_parse_to_the_calendar_date(raw: str, iso: str) -> None:
    assert WAREKI.problem(raw) is None
    assert WAREKI.parse(raw) == iso


@pytest.mark.parametrize(
    "raw", ["平成31年5月1日", "H31.5.1", "令和1年4月30日", "R1.4.30", "昭和64年1月8日", "平成1年1月7日"]
)
def test_a_date_outside_its_era_is_quarantined_not_corrected(raw: str) -> None:
    with pytest.raises(OutsideEra):
        parse_wareki(raw)
    assert WAREKI.problem(raw) == "date_outside_era"
    assert WAREKI.parse(raw) == ""


@pytest.mark.parametrize(
    "raw", ["R5.2.30", "令和5年13月1日", "X5.4.1", "R0.4.1", "令和", "=TODAY()", "2023-02-29", "60"]
)
def test_non_dates_are_invalid(raw: str) -> None:
    assert WAREKI.problem(raw) == "invalid_date"


@pytest.mark.parametrize(
    ("serial", "day"),
    [
        ("1", dt.date(1900, 1, 1)),
        ("59", dt.date(1900, 2, 28)),
        ("61", dt.date(1900, 3, 1)),
        ("45017.0", dt.date(2023, 4, 1)),
    ],
)
def test_excel_serials_follow_the_1900_system(serial: str, day: dt.date) -> None:
    assert parse_excel_serial(serial) == day


def test_excel_serial_of_the_day_that_never_was_and_out_of_range_are_not_dates() -> None:
    assert parse_excel_serial("60") is None  # Excel's 1900-02-29
    assert parse_excel_serial("0") is None and parse_excel_serial("2958466") is None
    assert parse_excel_serial("45017.5") is None


def test_serials_are_read_only_where_the_spec_allows_them() -> None:
    assert Date(format="wareki").problem("45017") == "invalid_date"


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [("YYYY-MM-DD", "2026-04-30", "2026/04/30"), ("YYYY/MM/DD", "2026/04/30", "2026-04-30")],
)
def test_western_formats_accept_only_their_separator(fmt: str, good: str, bad: str) -> None:
    date = Date(format=fmt)  # type: ignore[arg-type]
    assert (date.problem(good), date.parse(good)) == (None, "2026-04-30")
    assert date.problem(bad) == "invalid_date"
    assert date.problem("2026-02-30".replace("-", fmt[4])) == "invalid_date"


@pytest.mark.parametrize(
    ("raw", "iso"), [("19500000", ""), ("19501200", ""), ("19000229", ""), ("20200229", "2020-02-29")]
)
def test_partial_jumin_dates_are_kept_with_iso_only_on_the_calendar(raw: str, iso: str) -> None:
    date = Date(partial=True)
    assert date.problem(raw) is None and date.parse(raw) == iso
    assert Date().problem(raw) == (None if iso else "invalid_date")


def test_datetime_keeps_the_moment_and_parses_the_day() -> None:
    moment = DateTime()
    assert moment.problem("2026-06-01 08:55") is None and moment.parse("2026-06-01 08:55") == "2026-06-01"
    assert moment.problem("2026-06-01 25:00") == "invalid_datetime"
    assert moment.problem("2026-06-01") == "invalid_datetime"


def test_month_yyyymm() -> None:
    assert (Month().problem("202604"), Month().parse("202604")) == (None, "2026-04")
    assert Month().problem("202613") == "invalid_month" and Month().problem("2026-04") == "invalid_month"


def test_integers_with_bounds_epds_and_income() -> None:
    epds = Integer(minimum=0, maximum=30)
    assert epds.problem("0") is None and epds.problem("30") is None and epds.parse("09") == "9"
    assert epds.problem("31") == "out_of_range" and epds.problem("-1") == "out_of_range"
    assert epds.problem("9.5") == "invalid_integer" and epds.problem("９") == "invalid_integer"
    assert Integer().problem("1948000") is None and Integer().problem("1,948,000") == "invalid_integer"


def test_codes_normalise_while_the_raw_value_is_what_is_checked() -> None:
    sex = Code(codes=("男", "女"), normalise={"男": "1", "女": "2"})
    assert (sex.problem("女"), sex.parse("女")) == (None, "2")
    assert sex.problem("2") == "unknown_code"


def test_flags_with_a_false_mark() -> None:
    flag = Flag(true="1", false="0")
    assert flag.problem("1") is None and flag.problem("0") is None
    assert flag.problem("2") == "invalid_flag"
    assert Flag().problem("0") == "invalid_flag"
