"""A source layout as data: its columns, their value types, its key. Rows are checked against it; a row
that fails is quarantined with reasons that name the file, row and column but never the value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

Snapshot = Literal["full", "delta"]


class ValueType(Protocol):
    """What a column's non-empty value must look like."""

    def problem(self, raw: str) -> str | None:
        """The reason code when `raw` does not fit, else None."""

    def expectation(self) -> str:
        """What a fitting value looks like, in Japanese (for quarantine reasons; never quotes a value)."""


@dataclass(frozen=True, slots=True)
class Text:
    """Free text, kept exactly as given (legal characters, IVS, 外字 in U+E000–U+E757)."""

    max_length: int | None = None

    def problem(self, raw: str) -> str | None:
        """Too long, or fine."""
        if self.max_length is not None and len(raw) > self.max_length:
            return "too_long"
        return None

    def expectation(self) -> str:
        """E.g. `200 文字以内`."""
        return f"{self.max_length} 文字以内" if self.max_length is not None else "文字列"


@dataclass(frozen=True, slots=True)
class Digits:
    """A fixed number of ASCII digits (宛名番号, 世帯コード): zero-padded, so text, not a number."""

    length: int

    def problem(self, raw: str) -> str | None:
        """Not exactly `length` ASCII digits."""
        if len(raw) == self.length and raw.isascii() and raw.isdigit():
            return None
        return "invalid_digits"

    def expectation(self) -> str:
        """E.g. `10 桁の半角数字`."""
        return f"{self.length} 桁の半角数字"


@dataclass(frozen=True, slots=True)
class Date:
    """`YYYYMMDD`. With `partial`, the 住民記録 standard: a month or day of 00 means unknown
    (19500000, 19501200) and a day off the calendar (19000229) is kept as given; only the parsed form
    is then empty."""

    partial: bool = False

    def problem(self, raw: str) -> str | None:
        """Not a date of this kind."""
        # Compared as text (all ASCII digits of fixed width): this runs for millions of cells.
        if len(raw) != 8 or not (raw.isascii() and raw.isdigit()) or not "1800" <= raw[:4] <= "2999":
            return "invalid_date"
        month, day = raw[4:6], raw[6:]
        if self.partial:
            if month == "00":
                return None if day == "00" else "invalid_date"
            return None if month <= "12" and day <= "31" else "invalid_date"
        return None if iso_date(raw) else "invalid_date"

    def expectation(self) -> str:
        """What the date must look like."""
        if self.partial:
            return "YYYYMMDD 形式の日付 (不詳の月日は 00)"
        return "YYYYMMDD 形式の実在する日付"


def iso_date(raw: str) -> str:
    """`YYYY-MM-DD` when raw (YYYYMMDD) is a calendar date, else ''."""
    if len(raw) != 8 or not (raw.isascii() and raw.isdigit()):
        return ""
    # Every month has a 28th: most dates need no calendar (this runs for millions of cells).
    if "01" <= raw[4:6] <= "12" and "01" <= raw[6:] <= "28":
        return f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"
    try:
        return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
    except ValueError:
        return ""


@dataclass(frozen=True, slots=True)
class Code:
    """One of a fixed set of codes (性別, 続柄, 異動事由, 住民区分)."""

    codes: tuple[str, ...]

    def problem(self, raw: str) -> str | None:
        """Not one of the codes."""
        return None if raw in self.codes else "unknown_code"

    def expectation(self) -> str:
        """The allowed codes (they are the layout's vocabulary, not personal data)."""
        return "「" + "」「".join(self.codes) + "」のいずれか"


@dataclass(frozen=True, slots=True)
class Flag:
    """A mark that is either `true` (e.g. `1`) or empty."""

    true: str = "1"

    def problem(self, raw: str) -> str | None:
        """Anything but the mark."""
        return None if raw == self.true else "invalid_flag"

    def expectation(self) -> str:
        """E.g. `「1」または空欄`."""
        return f"「{self.true}」または空欄"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header exactly as the source writes it, the canonical field it fills, its type."""

    name: str
    field: str
    type: ValueType
    required: bool = False


@dataclass(frozen=True, slots=True)
class Layout:
    """One source's export layout."""

    source: str
    title: str
    format: str  # csv (xlsx later)
    extension: str
    encoding: str
    line_end: str  # crlf or lf
    snapshot: Snapshot  # full: a key missing from a delivery is REMOVED
    key: tuple[str, ...]  # header names of the columns that identify a record within the source
    event: str  # full name of the protobuf message each record becomes
    columns: tuple[Column, ...]
    header: tuple[str, ...] = field(init=False)  # the header row, exactly
    key_positions: tuple[int, ...] = field(init=False)  # where the key columns are in a row

    def __post_init__(self) -> None:
        header = tuple(c.name for c in self.columns)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "key_positions", tuple(header.index(k) for k in self.key if k in header))


@dataclass(frozen=True, slots=True)
class RowIssue:
    """Why a row is quarantined: the column (header name, '' for the whole row), a code, what was expected."""

    column: str
    code: str
    expected: str = ""


def check_row(layout: Layout, values: Sequence[str]) -> list[RowIssue]:
    """Every problem of one data row; empty when the row fits the layout."""
    columns = layout.columns
    if len(values) != len(columns):
        return [RowIssue(column="", code="field_count", expected=f"{len(columns)} 項目 (実際は {len(values)} 項目)")]
    issues: list[RowIssue] = []
    for column, raw in zip(columns, values, strict=True):
        if raw == "":
            if column.required:
                issues.append(RowIssue(column=column.name, code="missing_value"))
            continue
        code = column.type.problem(raw)
        if code is not None:
            issues.append(RowIssue(column=column.name, code=code, expected=column.type.expectation()))
    return issues


def key_is_usable(layout: Layout, issues: Sequence[RowIssue]) -> bool:
    """Whether a quarantined row still identifies its record (so a full snapshot does not remove it)."""
    return not any(i.column == "" or i.column in layout.key for i in issues)


_REASONS = {
    "missing_value": "値がありません (必須項目)",
    "invalid_digits": "{expected}ではありません",
    "invalid_date": "{expected}ではありません",
    "unknown_code": "定義された値 ({expected}) ではありません",
    "invalid_flag": "{expected}ではありません",
    "too_long": "{expected}ではありません",
    "field_count": "項目数が見出し行と一致しません ({expected})",
    "duplicate_key": "同じファイルの前の行と{expected}が重複しています",
}


def reason_text(*, file_name: str, row: int, issue: RowIssue) -> str:
    """The Japanese reason of a quarantined row: file, row and column, never the value."""
    what = _REASONS.get(issue.code, "値が正しくありません").format(expected=issue.expected)
    where = f"ファイル「{file_name}」の {row} 行目"
    if issue.column:
        return f"{where}「{issue.column}」: {what}"
    return f"{where}: {what}"
