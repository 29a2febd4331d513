"""The XLSX reader: the layout's sheet, row numbers, formulas kept as text, date cells, and workbooks refused before
parsing (zip bombs, huge shared strings, DTDs, not a zip, wrong sheet, another layout)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from mimamori.ingest.adapters.events import Provenance, mapper_for
from mimamori.ingest.adapters.layouts import load_layouts
from mimamori.ingest.adapters.xlsx_reader import XlsxLimits, XlsxRows, inspect_archive
from mimamori.ingest.domain.delivery import StructuralError
from mimamori.ingest.domain.layout import Layout, check_row
from mimamori.ingest.domain.records import SourceRecord

NAME = "gyakutai_tsukoku_202604.xlsx"
HEADER = ["受付日", "児童氏名", "ふりがな", "性別", "生年月日", "住所", "通告元", "種別", "対応状況"]


@pytest.fixture(scope="module")
def layouts() -> dict[str, Layout]:
    return load_layouts()


def workbook(rows: list[list[object]], *, sheet: str = "通告一覧", header: list[str] = HEADER) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read(data: bytes, layouts: dict[str, Layout], *, limits: XlsxLimits | None = None) -> list[tuple[int, list[str]]]:
    rows = XlsxRows(
        lambda: io.BytesIO(data),
        layout=layouts["gyakutai_tsukoku"],
        file_name=NAME,
        layouts=layouts,
        **({"limits": limits} if limits else {}),
    )
    return list(rows)


def valid(**changes: object) -> list[object]:
    values: dict[str, object] = dict(
        zip(
            HEADER,
            [
                "R7.7.18",
                "佐藤　杏奈",
                "さとう あんな",
                "女",
                dt.datetime(2024, 10, 28),
                "開成町円通寺2143",
                "その他",
                "ネグレクト",
                "継続指導",
            ],
            strict=True,
        )
    )
    values.update(changes)
    return [values[h] for h in HEADER]


def test_rows_are_numbered_from_the_sheet_and_cells_read_as_text(layouts: dict[str, Layout]) -> None:
    data = workbook([valid(), [], valid(受付日="令和7年8月6日", 生年月日="H29.12.10")])
    rows = read(data, layouts)
    assert [r for r, _ in rows] == [1, 3]  # data row n is sheet row n + 1; blank rows keep the numbering
    assert rows[0][1][4] == "2024-10-28"  # a date cell
    layout = layouts["gyakutai_tsukoku"]
    assert all(check_row(layout, values) == [] for _, values in rows)
    record = SourceRecord.of(layout, municipality="143669", row=1, values=rows[0][1])
    event = mapper_for(layout).event(
        values=record.values,
        record_key=record.record_key,
        provenance=Provenance("g", "m", NAME, "x", "r", "202604"),
        row=1,
    )
    assert [(p.role, p.sex, p.birth_date.raw, p.birth_date.iso) for p in event.persons] == [  # type: ignore[attr-defined]
        ("child", "2", "2024-10-28", "2024-10-28")
    ]
    assert (event.abuse_report.received.raw, event.abuse_report.received.iso) == ("R7.7.18", "2025-07-18")  # type: ignore[attr-defined]


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_formulas_are_kept_as_text_never_evaluated(layouts: dict[str, Layout], formula: str) -> None:
    rows = read(workbook([valid(住所=formula)]), layouts)
    assert rows[0][1][5] == formula
    issues = check_row(layouts["gyakutai_tsukoku"], read(workbook([valid(受付日="=TODAY()")]), layouts)[0][1])
    assert [(i.column, i.code) for i in issues] == [("受付日", "invalid_date")]


def refused(data: bytes, layouts: dict[str, Layout], **kwargs: object) -> StructuralError:
    with pytest.raises(StructuralError) as caught:
        read(data, layouts, **kwargs)  # type: ignore[arg-type]
    assert NAME in caught.value.message
    return caught.value


def test_wrong_sheet_other_layout_and_unknown_headers_are_refused(layouts: dict[str, Layout]) -> None:
    assert refused(workbook([valid()], sheet="Sheet1"), layouts).code == "missing_sheet"
    assert refused(workbook([valid()], sheet="受給世帯"), layouts).code == "layout_mismatch"
    assert refused(workbook([valid()], header=[*HEADER[:-1], "状況"]), layouts).code == "header_mismatch"


def test_not_a_zip_and_a_truncated_workbook_are_refused(layouts: dict[str, Layout]) -> None:
    data = workbook([valid()])
    assert refused(b"\xef\xbb\xbf\xe5\x8f\x97,", layouts).code == "bad_xlsx"
    assert refused(data[: len(data) // 2], layouts).code == "bad_xlsx"


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def test_zip_bomb_is_refused_from_the_directory_alone(layouts: dict[str, Layout]) -> None:
    bomb = _zip({"xl/worksheets/sheet1.xml": b"<" + b"a" * (40 * 1024 * 1024)})
    assert len(bomb) < 200_000
    error = refused(bomb, layouts)
    assert error.code == "xlsx_too_large" and "圧縮率" in error.message


def test_huge_shared_strings_are_refused(layouts: dict[str, Layout]) -> None:
    strings = b"<sst>" + b"<si><t>x</t></si>" * 200_000 + b"</sst>"
    data = _zip({"xl/sharedStrings.xml": strings})
    limits = XlsxLimits(max_shared_strings_bytes=1024 * 1024, max_ratio=10_000)
    error = refused(data, layouts, limits=limits)
    assert error.code == "xlsx_too_large" and "共有文字列" in error.message


def test_a_dtd_is_refused_before_any_xml_is_parsed(tmp_path: Path) -> None:
    data = _zip({"[Content_Types].xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'})
    with pytest.raises(StructuralError) as caught:
        inspect_archive(io.BytesIO(data), file_name=NAME)
    assert caught.value.code == "bad_xlsx"
