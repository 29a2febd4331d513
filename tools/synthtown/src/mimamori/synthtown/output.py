"""Writing export files byte-for-byte reproducibly: CSV in each system's encoding, XLSX via openpyxl."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from mimamori.synthtown.layouts import SourceLayout
from mimamori.synthtown.model import Cell

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        raise TypeError("a CSV export holds dates as text in the layout's own format")
    return str(cell)


def write_csv(path: Path, layout: SourceLayout, rows: Iterable[tuple[Cell, ...]]) -> None:
    """Header plus rows; quoting only where needed; the layout's encoding (strict) and line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=layout.newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(layout.headers)
    writer.writerows([csv_text(cell) for cell in row] for row in rows)
    path.write_bytes(buffer.getvalue().encode(layout.encoding))


def write_xlsx(
    path: Path, layout: SourceLayout, rows: Iterable[tuple[Cell, ...]], *, stamp: datetime
) -> None:
    """One sheet with a header row; date cells shown as yyyy/m/d; document times and zip times fixed."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None and layout.sheet is not None
    sheet.title = layout.sheet
    sheet.append(layout.headers)
    for row in rows:
        sheet.append(list(row))
        for column, value in enumerate(row, start=1):
            if isinstance(value, date):
                sheet.cell(row=sheet.max_row, column=column).number_format = "yyyy/m/d"
    workbook.properties.creator = "mimamori-synthtown"
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    path.write_bytes(_with_fixed_times(raw.getvalue()))


def _with_fixed_times(archive_bytes: bytes) -> bytes:
    """Re-pack a zip with every entry dated 1980-01-01, so equal content gives equal bytes."""
    packed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as source, zipfile.ZipFile(packed, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return packed.getvalue()
