"""Mutated delivery files for fuzzing the readers (the ingest fuzz test and the conformance kit's `fuzz` check).

Each mutant is a plausible way a delivery goes wrong: flipped, inserted or lost bytes, a cut-off file, lines
repeated, swapped or dropped, a renamed header, another encoding or line end, a BOM too many, nasty cell values
(formulas, full-width digits, 外字, huge text, quotes, separators, control characters), and for XLSX a damaged zip,
a sheet cut off mid-XML, a DTD, a renamed sheet or a rewritten cell. Deterministic for a given random state."""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

NASTY_CELLS = (
    "",
    "=1+1",
    "+81-3-1234",
    "-2",
    "@SUM(A1:A9)",
    '=HYPERLINK("http://example.invalid")',
    "０１２３４５６７８９",
    "\ue000\ue757",
    "髙﨑\U000e0100",
    "x" * 5000,
    '"',
    'a,"b',
    "a\nb",
    "R99.99.99",
    "令和元年4月30日",
    "H31.5.1",
    "00000000",
    "19000229",
    "9" * 40,
    " ",
    "\t",
    "\x00",
    "NULL",
    "-0",
    "1e5",
    "2026-02-30",
    "2026-04-01 25:61",
)


@dataclass(frozen=True, slots=True)
class Mutant:
    """One mutated file: how it was made (for the test's message) and its bytes."""

    how: str
    data: bytes


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _csv_mutations(encoding: str) -> list[Callable[[bytes, random.Random], tuple[str, bytes]]]:
    def flip(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return "flipped bytes", bytes(out)

    def insert(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        at = rng.randrange(len(data))
        junk = rng.choice([b'"', b",", b"\r", b"\n", b"\x00", b"\x81", b"\xff\xfe", bytes([rng.randrange(128, 256)])])
        return "inserted bytes", data[:at] + junk + data[at:]

    def cut(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        return "truncated", data[: rng.randrange(len(data))]

    def delete(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        at = rng.randrange(len(data))
        return "deleted bytes", data[:at] + data[at + rng.randint(1, 40) :]

    def duplicate_line(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        lines = _lines(data)
        i = rng.randrange(len(lines))
        return "duplicated line", b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])

    def swap_lines(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        lines = _lines(data)
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "swapped lines", b"".join(lines)

    def drop_line(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        lines = _lines(data)
        del lines[rng.randrange(len(lines))]
        return "dropped line", b"".join(lines)

    def rename_header(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        lines = _lines(data)
        header = lines[0].split(b",")
        i = rng.randrange(len(header))
        header[i] = (
            header[i].rstrip(b"\r\n")
            + b"X"
            + (b"\r\n" if header[i].endswith(b"\r\n") else b"\n" if header[i].endswith(b"\n") else b"")
        )
        return "renamed header", b"".join([b",".join(header), *lines[1:]])

    def reencode(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        text = data.decode(encoding, errors="replace")
        target = rng.choice([e for e in ("cp932", "utf-8", "utf-8-sig", "utf-16", "euc_jp") if e != encoding])
        return f"re-encoded as {target}", text.encode(target, errors="replace")

    def line_ends(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        if b"\r\n" in data:
            if rng.random() < 0.5:
                return "LF line ends", data.replace(b"\r\n", b"\n")
            lines = _lines(data)
            i = rng.randrange(len(lines))
            lines[i] = lines[i].replace(b"\r\n", b"\n")
            return "one LF line end", b"".join(lines)
        return "CRLF line ends", data.replace(b"\n", b"\r\n")

    def bom(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        return ("BOM removed", data[3:]) if data.startswith(b"\xef\xbb\xbf") else ("BOM added", b"\xef\xbb\xbf" + data)

    def cell(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        lines = _lines(data)
        if len(lines) < 2:
            return "no data line", data
        i = rng.randrange(1, len(lines))
        end = b"\r\n" if lines[i].endswith(b"\r\n") else b"\n" if lines[i].endswith(b"\n") else b""
        cells = lines[i][: len(lines[i]) - len(end)].split(b",")
        j = rng.randrange(len(cells))
        value = rng.choice(NASTY_CELLS)
        quoted = '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value
        cells[j] = quoted.encode(encoding.replace("-sig", ""), errors="replace")
        return f"cell {j + 1} of line {i + 1}", b"".join([*lines[:i], b",".join(cells) + end, *lines[i + 1 :]])

    def extra_column(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        lines = _lines(data)
        i = rng.randrange(len(lines))
        stripped = lines[i].rstrip(b"\r\n")
        lines[i] = stripped + b",x" + lines[i][len(stripped) :]
        return "extra column", b"".join(lines)

    return [flip, insert, cut, delete, duplicate_line, swap_lines, drop_line, rename_header, reencode, line_ends,
            bom, cell, cell, cell, extra_column]  # fmt: skip


def _rewrite(data: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info, change(body) if info.filename == member else body)
    return out.getvalue()


def _xlsx_mutations() -> list[Callable[[bytes, random.Random], tuple[str, bytes]]]:
    sheet = "xl/worksheets/sheet1.xml"

    def flip(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        out = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return "flipped zip bytes", bytes(out)

    def cut(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        return "truncated zip", data[: rng.randrange(len(data))]

    def cut_sheet(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        return "sheet XML cut off", _rewrite(data, sheet, lambda b: b[: rng.randrange(len(b) // 2, len(b))])

    def dtd(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        entity = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        return "DTD with entities", _rewrite(data, sheet, lambda b: entity + b)

    def rename_sheet(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        return "sheet renamed", _rewrite(
            data, "xl/workbook.xml", lambda b: re.sub(rb'name="[^"]*"', b'name="Sheet1"', b, count=1)
        )

    def cell(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        value = escape(rng.choice(NASTY_CELLS).replace("\x00", "")).encode()

        def change(body: bytes) -> bytes:
            texts = list(re.finditer(rb"<t>[^<]*</t>", body))
            if not texts:
                return body
            hit = rng.choice(texts[1:] or texts)
            return body[: hit.start()] + b"<t>" + value + b"</t>" + body[hit.end() :]

        return "cell rewritten", _rewrite(data, sheet, change)

    def drop_member(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        victim = rng.choice([sheet, "xl/workbook.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels"])
        source = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename != victim:
                    target.writestr(info, source.read(info.filename))
        return f"{victim} missing", out.getvalue()

    def not_a_zip(data: bytes, rng: random.Random) -> tuple[str, bytes]:
        return "CSV bytes under an .xlsx name", "列1,列2\r\n1,2\r\n".encode("cp932")

    return [flip, cut, cut_sheet, dtd, rename_sheet, cell, cell, cell, drop_member, not_a_zip]


def mutants(data: bytes, *, file_format: str, encoding: str, rng: random.Random, count: int) -> Iterator[Mutant]:
    """`count` mutants of one delivered file (csv: `encoding` is the layout's); never the file itself."""
    mutations = _xlsx_mutations() if file_format == "xlsx" else _csv_mutations(encoding or "utf-8")
    made = 0
    while made < count:
        how, mutated = rng.choice(mutations)(data, rng)
        if mutated != data:
            made += 1
            yield Mutant(how=how, data=mutated)
