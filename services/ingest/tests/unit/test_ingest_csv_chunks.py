"""The CSV reader reads chunks of whole lines at once where it can; the result is exactly the line-by-line
reader's: the same rows, and the same structural error at the same row, wherever the chunks are cut."""

from __future__ import annotations

import io
from typing import Any

import pytest

from mimamori.ingest.adapters import csv_reader
from mimamori.ingest.adapters.csv_reader import CsvRows
from mimamori.ingest.adapters.layouts import load_layouts
from mimamori.ingest.domain.delivery import StructuralError
from mimamori.ingest.domain.layout import Layout

LAYOUTS = load_layouts()


def read(data: bytes, layout: Layout) -> Any:
    try:
        return list(CsvRows(lambda: io.BytesIO(data), layout=layout, file_name="jumin_202604.csv", layouts=LAYOUTS))
    except StructuralError as error:
        return (error.code, error.row, error.message)


def samples(jumin) -> list[bytes]:
    rows = jumin.town(9)
    rows[3][2] = "髙﨑　\ue000子"
    good = jumin.bytes(rows)
    quoted = jumin.bytes([*rows[:4], jumin.row(住所="開成町,\r\n延沢")], line_end="\r\n")
    lines = good.split(b"\r\n")
    return [
        good,
        quoted,  # a quoted field spans two lines
        good[:-2],  # the last row without its line end: truncated
        good.replace(b"\r\n", b"\n", 1),  # the header ends in LF only
        b"\r\n".join([*lines[:5], lines[5] + b"\x81", *lines[6:]]),  # undecodable in row 5
        b"\r\n".join([*lines[:6], lines[6].replace(b",", b"\r", 1), *lines[7:]]),  # a bare CR inside row 6
        good.replace(b"\r\n", b"\r\n\r\n", 3),  # empty lines
        b"\r\n".join([*lines[:4], b'"unclosed,' + lines[4], *lines[5:]]),
        "\u2028".join(good.decode("cp932").split(",", 20)).encode("cp932", errors="replace"),
    ]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_chunked_reading_equals_line_by_line_reading(jumin, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = LAYOUTS["jumin"]
    for data in samples(jumin):
        monkeypatch.setattr(csv_reader, "CHUNK", 1 << 20)
        monkeypatch.setattr(csv_reader, "_split", lambda *_a, **_k: None)  # every chunk line by line
        expected = read(data, layout)
        monkeypatch.undo()
        monkeypatch.setattr(csv_reader, "CHUNK", chunk)
        assert read(data, layout) == expected


def test_whole_chunks_are_split_at_once_only_when_every_line_ends_as_the_layout_says() -> None:
    crlf, lf = b"\r\n", b"\n"
    assert csv_reader._split(b"a,b\r\nc,d\r\n", encoding="cp932", line_end=crlf) == ["a,b\r\n", "c,d\r\n"]
    assert csv_reader._split(b"a,b\r\nc,d\n", encoding="cp932", line_end=crlf) is None
    assert csv_reader._split(b"a,b\nc,d\r\n", encoding="utf-8", line_end=lf) is None
    assert csv_reader._split(b"a\rb\r\n", encoding="cp932", line_end=crlf) is None  # CR is no line break here
    assert csv_reader._split(b"a,\x81\r\n", encoding="cp932", line_end=crlf) is None  # the row is found line by line
