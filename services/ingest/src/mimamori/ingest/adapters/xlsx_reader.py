"""The XLSX reader of layout specs: the layout's sheet, header on sheet row 1, data row n on sheet row n + 1.

Before openpyxl sees a byte, the zip's directory is checked: how many parts, how large each would expand, the
ratio of expanded to compressed size, the shared strings (which openpyxl keeps in memory whole), and any DTD (no
entity expansion). So a zip bomb or a huge string table is refused without being expanded; zipfile itself stops
expanding a part at its declared size. The sheet is then streamed (openpyxl read-only). Cells are read as text:
a formula (`=…`) is its text, never evaluated (the cached value Excel stored is not read either); a date cell
becomes `YYYY-MM-DD`; a whole number `123`."""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from mimamori.ingest.adapters.csv_reader import check_header
from mimamori.ingest.domain import delivery
from mimamori.ingest.domain.delivery import StructuralError
from mimamori.ingest.domain.layout import Layout

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class XlsxLimits:
    """How large a workbook may be once expanded (the town's Excel lists are a few thousand rows at most)."""

    max_parts: int = 500
    max_part_bytes: int = 128 * MiB
    max_total_bytes: int = 256 * MiB
    max_shared_strings_bytes: int = 16 * MiB
    max_ratio: float = 200.0  # expanded / compressed, for parts over 1 MiB
    ratio_from_bytes: int = 1 * MiB


DEFAULT_LIMITS = XlsxLimits()
_PROLOG_BYTES = 4096


def inspect_archive(stream: BinaryIO, *, file_name: str, limits: XlsxLimits = DEFAULT_LIMITS) -> None:
    """Refuse, without expanding anything large, a workbook that is no zip or would expand beyond the limits."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise delivery.bad_xlsx(file_name) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > limits.max_parts:
            raise delivery.xlsx_too_large(file_name, what=f"部品数 {len(parts)} > {limits.max_parts}")
        total = 0
        for part in parts:
            size = part.file_size
            total += size
            if size > limits.max_part_bytes:
                raise delivery.xlsx_too_large(file_name, what="部品の大きさ")
            if size > limits.ratio_from_bytes and size > limits.max_ratio * max(part.compress_size, 1):
                raise delivery.xlsx_too_large(file_name, what="圧縮率")
            if part.filename.lower().endswith("sharedstrings.xml") and size > limits.max_shared_strings_bytes:
                raise delivery.xlsx_too_large(file_name, what="共有文字列")
        if total > limits.max_total_bytes:
            raise delivery.xlsx_too_large(file_name, what="合計の大きさ")
        for part in parts:
            if part.filename.lower().endswith((".xml", ".rels")):
                try:
                    with archive.open(part) as member:
                        prolog = member.read(_PROLOG_BYTES)
                except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, zlib.error):
                    # zlib.error: a damaged deflate stream (found by the fuzz test)
                    raise delivery.bad_xlsx(file_name) from None
                if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                    raise delivery.bad_xlsx(file_name)


def cell_text(value: Any) -> str:
    """A cell as text: as typed for text (formulas included), ISO for dates, digits for whole numbers."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


class XlsxRows:
    """The data rows of one delivered XLSX file as (row, values): row n is sheet row n + 1."""

    def __init__(
        self,
        opener: Callable[[], BinaryIO],
        *,
        layout: Layout,
        file_name: str,
        layouts: Mapping[str, Layout],
        limits: XlsxLimits = DEFAULT_LIMITS,
    ) -> None:
        self._opener = opener
        self._layout = layout
        self._file_name = file_name
        self._layouts = layouts
        self._limits = limits

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        from openpyxl import load_workbook  # imported late: only xlsx deliveries need it

        layout, name = self._layout, self._file_name
        width = len(layout.columns)
        with self._opener() as stream:
            inspect_archive(stream, file_name=name, limits=self._limits)
            stream.seek(0)
            try:
                workbook = load_workbook(stream, read_only=True, data_only=False, keep_links=False)
            except StructuralError:
                raise
            except Exception:
                raise delivery.bad_xlsx(name) from None
            try:
                if layout.sheet not in workbook.sheetnames:
                    other = next(
                        (
                            o.source
                            for o in self._layouts.values()
                            if o.sheet and o.source != layout.source and o.sheet in workbook.sheetnames
                        ),
                        None,
                    )
                    raise delivery.missing_sheet(name, source=layout.source, sheet=layout.sheet or "", other=other)
                rows = workbook[layout.sheet].iter_rows(values_only=True)
                sheet_row = 0
                try:
                    first = next(rows, None)
                    sheet_row = 1
                    if first is None:
                        raise delivery.empty_file(name)
                    header = _trimmed([cell_text(v) for v in first])
                    if not header:
                        raise delivery.empty_file(name)
                    check_header(header, layout=layout, layouts=self._layouts, file_name=name)
                    for cells in rows:
                        sheet_row += 1
                        values = _trimmed([cell_text(v) for v in cells])
                        if not values:
                            continue
                        if len(values) < width:
                            values += [""] * (width - len(values))
                        yield sheet_row - 1, values
                except StructuralError:
                    raise
                except Exception:
                    raise delivery.bad_xlsx(name, row=max(sheet_row - 1, 0)) from None
            finally:
                workbook.close()


def _trimmed(values: list[str]) -> list[str]:
    end = len(values)
    while end and values[end - 1] == "":
        end -= 1
    return values[:end]
