"""The generic CSV reader of layout specs: streams a delivered file row by row, never whole.

Bytes are split on LF (safe in CP932 and UTF-8: no multi-byte character contains 0x0A) and each physical line
is decoded on its own, so an undecodable byte is reported with its row; the csv module assembles records
(quoted fields may span lines). Anything that makes the file unusable as a whole raises a StructuralError
that names the file and row, never a value."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from mimamori.ingest.domain import delivery
from mimamori.ingest.domain.layout import Layout

LINE_ENDS = {"crlf": b"\r\n", "lf": b"\n"}
CHUNK = 1 << 20  # bytes read at once; a chunk is cut after its last line end


@dataclass(slots=True)
class _Position:
    records: int = 0  # records completed so far, the header included: the one being read is data row `records`
    ending: bytes = b""  # line end of the last physical line read


def _decoded_lines(
    stream: BinaryIO, *, encoding: str, line_end: bytes, file_name: str, position: _Position
) -> Iterator[str]:
    """The file's physical lines, decoded. Fast path: a chunk of whole lines is decoded and split at once when
    every line of it ends as the layout says and LF is its only line break; any other chunk is read line by
    line (the exact checks and the row of an undecodable line come from there)."""
    rest_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    current = encoding
    pending = b""
    while True:
        data = stream.read(CHUNK)
        if not data:
            break
        data = pending + data if pending else data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            pending = data
            continue
        chunk, pending = data[:cut], data[cut:]
        lines = _split(chunk, encoding=current, line_end=line_end)
        if lines is not None:
            position.ending = line_end
            current = rest_encoding
            yield from lines
            continue
        for raw in io.BytesIO(chunk):
            yield _decoded(raw, encoding=current, reported=encoding, file_name=file_name, position=position)
            current = rest_encoding
    if pending:
        yield _decoded(pending, encoding=current, reported=encoding, file_name=file_name, position=position)


def _split(chunk: bytes, *, encoding: str, line_end: bytes) -> list[str] | None:
    """The lines of a chunk that takes the fast path, else None."""
    lines_count = chunk.count(b"\n")
    crlf_count = chunk.count(b"\r\n")
    if crlf_count != (lines_count if line_end == b"\r\n" else 0):
        return None
    try:
        text = chunk.decode(encoding)
    except UnicodeDecodeError:
        return None
    lines = text.splitlines(keepends=True)
    # splitlines also breaks at CR, VT, FF, U+2028 …; the line-by-line reader breaks at LF only.
    return lines if len(lines) == lines_count else None


def _decoded(raw: bytes, *, encoding: str, reported: str, file_name: str, position: _Position) -> str:
    if raw.endswith(b"\r\n"):
        position.ending = b"\r\n"
    elif raw.endswith(b"\n"):
        position.ending = b"\n"
    else:
        position.ending = b""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise delivery.undecodable(file_name, encoding=reported, row=position.records) from None


class CsvRows:
    """The data rows of one delivered CSV file as (row, values): row is 1-based, the header excluded."""

    def __init__(
        self, opener: Callable[[], BinaryIO], *, layout: Layout, file_name: str, layouts: Mapping[str, Layout]
    ) -> None:
        self._opener = opener
        self._layout = layout
        self._file_name = file_name
        self._layouts = layouts

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        layout, name = self._layout, self._file_name
        line_end = LINE_ENDS[layout.line_end]
        with self._opener() as stream:
            position = _Position()
            lines = _decoded_lines(
                stream, encoding=layout.encoding, line_end=line_end, file_name=name, position=position
            )
            reader = csv.reader(lines, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise delivery.empty_file(name) from None
            except csv.Error:
                raise delivery.malformed_csv(name, row=0) from None
            position.records = 1
            self._check_header(header)
            if position.ending not in (line_end, b""):  # b"": the file ends after its header
                raise delivery.wrong_line_end(name, row=0, expected=layout.line_end)
            while True:
                row = position.records
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error:
                    if position.ending == b"":
                        raise delivery.truncated(name, row=row) from None
                    raise delivery.malformed_csv(name, row=row) from None
                position.records += 1
                if position.ending == b"":
                    if values:
                        raise delivery.truncated(name, row=row)
                elif position.ending != line_end:
                    raise delivery.wrong_line_end(name, row=row, expected=layout.line_end)
                if values:
                    yield row, values

    def _check_header(self, header: list[str]) -> None:
        check_header(header, layout=self._layout, layouts=self._layouts, file_name=self._file_name)


def check_header(header: Sequence[str], *, layout: Layout, layouts: Mapping[str, Layout], file_name: str) -> None:
    """The header row must be the layout's exactly; another layout's header is named as such."""
    expected = layout.header
    if tuple(header) == expected:
        return
    for other in layouts.values():
        if other.source != layout.source and tuple(header) == other.header:
            raise delivery.other_layout(file_name, claimed=layout.source, actual=other.source)
    missing = [c for c in expected if c not in header]
    unexpected = sum(1 for c in header if c not in expected)
    raise delivery.header_mismatch(
        file_name,
        source=layout.source,
        missing=missing,
        present=len(expected) - len(missing),
        unexpected=unexpected,
        order=not missing and not unexpected,
    )


def check_structure(
    rows: Iterable[tuple[int, list[str]]], *, layout: Layout, file_name: str, allow_empty: bool = False
) -> int:
    """Read the whole file once without keeping anything; the number of data rows, or a StructuralError.

    A full snapshot without rows is refused unless `allow_empty` (the caller then refuses it only when it would
    remove records: a cumulative list may be empty until its first entry)."""
    count = 0
    for _ in rows:
        count += 1
    if count == 0 and layout.snapshot == "full" and not allow_empty:
        raise delivery.no_rows(file_name)
    return count
