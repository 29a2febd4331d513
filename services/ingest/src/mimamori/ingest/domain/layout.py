"""A source layout as data: its columns, their value types, its key. Rows are checked against it; a row
that fails is quarantined with reasons that name the file, row and column but never the value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from mimamori.ingest.domain.dates import (
    OutsideEra,
    parse_datetime,
    parse_excel_serial,
    parse_wareki,
    parse_western,
)

# full: every delivery holds every record of the source (a key it lacks is REMOVED);
# month: a delivery holds only its month's events (a key lacking from a re-delivery of the SAME month is REMOVED,
#        other months are untouched); delta: deliveries only add and change.
Snapshot = Literal["full", "month", "delta"]
DateFormat = Literal["YYYYMMDD", "YYYY-MM-DD", "YYYY/MM/DD", "wareki"]
# A row hook (adapter SDK): what a spec cannot say, e.g. a 宛名番号 exported without its leading zeros. It gets a
# data row's values as read and returns the values to check; raising ValueError rejects the whole file.
RowHook = Callable[[list[str]], list[str]]


class ValueType(Protocol):
    """What a column's non-empty value must look like."""

    def problem(self, raw: str) -> str | None:
        """The reason code when `raw` does not fit, else None."""

    def expectation(self) -> str:
        """What a fitting value looks like, in Japanese (for quarantine reasons; never quotes a value)."""

    def parse(self, raw: str) -> str:
        """The parsed form of a fitting value (ISO date or month, normalised code, integer); '' when none."""


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

    def parse(self, raw: str) -> str:
        """Text is its own parsed form."""
        return raw


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

    def parse(self, raw: str) -> str:
        """Digits stay text (zero-padded codes)."""
        return raw


@dataclass(frozen=True, slots=True)
class Date:
    """A date in one of the sources' forms.

    `YYYYMMDD` (基幹系): with `partial`, the 住民記録 standard: a month or day of 00 means unknown (19500000,
    19501200) and a day off the calendar (19000229) is kept as given; only the parsed form is then empty.
    `YYYY-MM-DD` (校務系), `YYYY/MM/DD` (子育て支援センター): calendar dates. `wareki` (the Excel lists): 和暦 in
    every style staff type (R5.4.1, 令和5年4月1日, H30.12.25, 平成元年1月8日, S/昭和 …) inside its era, a date cell
    (read as YYYY-MM-DD), a western YYYY/MM/DD, and with `excel_serial` an Excel serial day number."""

    partial: bool = False
    format: DateFormat = "YYYYMMDD"
    excel_serial: bool = False

    def problem(self, raw: str) -> str | None:
        """Not a date of this kind."""
        if self.format != "YYYYMMDD":
            try:
                return None if self._calendar_date(raw) is not None else "invalid_date"
            except OutsideEra:
                return "date_outside_era"
        # Compared as text (all ASCII digits of fixed width): this runs for millions of cells.
        if len(raw) != 8 or not (raw.isascii() and raw.isdigit()) or not "1800" <= raw[:4] <= "2999":
            return "invalid_date"
        month, day = raw[4:6], raw[6:]
        if self.partial:
            if month == "00":
                return None if day == "00" else "invalid_date"
            return None if month <= "12" and day <= "31" else "invalid_date"
        return None if iso_date(raw) else "invalid_date"

    def _calendar_date(self, raw: str) -> dt.date | None:
        if self.format == "YYYY-MM-DD":
            return parse_western(raw, separator="-")
        if self.format == "YYYY/MM/DD":
            return parse_western(raw, separator="/")
        found = parse_wareki(raw) or parse_western(raw, separator="-") or parse_western(raw, separator="/")
        if found is None and self.excel_serial:
            found = parse_excel_serial(raw)
        return found

    def parse(self, raw: str) -> str:
        """`YYYY-MM-DD` when raw is a calendar date, else ''."""
        if self.format == "YYYYMMDD":
            return iso_date(raw)
        try:
            found = self._calendar_date(raw)
        except OutsideEra:
            return ""
        return found.isoformat() if found is not None else ""

    def expectation(self) -> str:
        """What the date must look like."""
        if self.format == "wareki":
            return "和暦 (R5.4.1、令和5年4月1日 など、元号の期間内) または日付セル"
        if self.format != "YYYYMMDD":
            return f"{self.format} 形式の実在する日付"
        if self.partial:
            return "YYYYMMDD 形式の日付 (不詳の月日は 00)"
        return "YYYYMMDD 形式の実在する日付"


@dataclass(frozen=True, slots=True)
class DateTime:
    """`YYYY-MM-DD HH:MM` (保健室 来室日時); the parsed form is the day (YYYY-MM-DD)."""

    def problem(self, raw: str) -> str | None:
        """Not a date and time on the calendar and the clock."""
        return None if parse_datetime(raw) is not None else "invalid_datetime"

    def parse(self, raw: str) -> str:
        """The day of the moment, `YYYY-MM-DD`."""
        moment = parse_datetime(raw)
        return moment.date().isoformat() if moment is not None else ""

    def expectation(self) -> str:
        """What the moment must look like."""
        return "YYYY-MM-DD HH:MM 形式の日時"


@dataclass(frozen=True, slots=True)
class Month:
    """`YYYYMM` (支給開始年月, 対象年月)."""

    def problem(self, raw: str) -> str | None:
        """Not a month."""
        if (
            len(raw) == 6
            and raw.isascii()
            and raw.isdigit()
            and "1800" <= raw[:4] <= "2999"
            and "01" <= raw[4:] <= "12"
        ):
            return None
        return "invalid_month"

    def parse(self, raw: str) -> str:
        """`YYYY-MM`."""
        return f"{raw[:4]}-{raw[4:]}" if self.problem(raw) is None else ""

    def expectation(self) -> str:
        """What the month must look like."""
        return "YYYYMM 形式の年月"


@dataclass(frozen=True, slots=True)
class Integer:
    """A whole number in half-width digits (EPDS点数 0–30, 総所得金額 in yen, 世帯人員), optionally bounded."""

    minimum: int | None = None
    maximum: int | None = None

    def _value(self, raw: str) -> int | None:
        digits = raw[1:] if raw.startswith("-") else raw
        if not digits or len(digits) > 15 or not (digits.isascii() and digits.isdigit()):
            return None
        return int(raw)

    def problem(self, raw: str) -> str | None:
        """Not a whole number, or out of bounds."""
        value = self._value(raw)
        if value is None:
            return "invalid_integer"
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            return "out_of_range"
        return None

    def parse(self, raw: str) -> str:
        """The number without leading zeros."""
        value = self._value(raw)
        return str(value) if value is not None else ""

    def expectation(self) -> str:
        """E.g. `0 から 30 までの整数`."""
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum} から {self.maximum} までの整数"
        if self.minimum is not None:
            return f"{self.minimum} 以上の整数"
        return "半角数字の整数"


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
    normalise: Mapping[str, str] = field(
        default_factory=dict, hash=False
    )  # e.g. 男 → "1": the parsed form; raw is kept

    def problem(self, raw: str) -> str | None:
        """Not one of the codes."""
        return None if raw in self.codes else "unknown_code"

    def parse(self, raw: str) -> str:
        """The normalised code (as given when the spec normalises nothing)."""
        return self.normalise.get(raw, raw)

    def expectation(self) -> str:
        """The allowed codes (they are the layout's vocabulary, not personal data)."""
        return "「" + "」「".join(self.codes) + "」のいずれか"


@dataclass(frozen=True, slots=True)
class Flag:
    """A mark that is either `true` (e.g. `1`) or empty."""

    true: str = "1"
    false: str = ""  # a mark for false besides the empty field (特定妊婦 1/0)

    def problem(self, raw: str) -> str | None:
        """Anything but the marks."""
        return None if raw == self.true or (self.false and raw == self.false) else "invalid_flag"

    def parse(self, raw: str) -> str:
        """The mark as given."""
        return raw

    def expectation(self) -> str:
        """E.g. `「1」または空欄`."""
        if self.false:
            return f"「{self.true}」「{self.false}」または空欄"
        return f"「{self.true}」または空欄"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header exactly as the source writes it, the canonical field it fills, its type."""

    name: str
    field: str  # the first target
    type: ValueType
    required: bool = False
    also: tuple[str, ...] = ()  # more targets the same value fills (e.g. a body field and a person reference)
    when_empty: tuple[str, ...] = ()  # bool targets set when the value is empty (未受診: 受診日 empty)
    free_text: bool = False  # 概要, 主訴, 備考 …: stored by ingest alone, never in an event, log or reason

    @property
    def targets(self) -> tuple[str, ...]:
        """Every target the value fills."""
        return (self.field, *self.also)


@dataclass(frozen=True, slots=True)
class Layout:
    """One source's export layout."""

    source: str
    title: str
    format: str  # csv or xlsx
    extension: str
    encoding: str  # csv only
    line_end: str  # crlf or lf (csv only)
    snapshot: Snapshot
    key: tuple[str, ...]  # header names of the columns that identify a record within the source
    event: str  # full name of the protobuf message each record becomes
    columns: tuple[Column, ...]
    sheet: str | None = None  # xlsx: the sheet that holds the list (header on sheet row 1)
    persons: tuple[str, ...] = ()  # roles of the persons a row names, in event order (SourceRecordReceived)
    body: str | None = None  # the body field of SourceRecordReceived (entitlement, certificate …)
    constants: Mapping[str, str] = field(
        default_factory=dict, hash=False
    )  # body fields fixed by the layout (program …)
    duplicates: Literal["quarantine", "number"] = "quarantine"  # number: the n-th equal key is a record too
    free_text_roles: tuple[str, ...] = ()  # who may read the free text (purpose case_support); () = nobody
    municipality: str | None = None  # 全国地方公共団体コード this layout is for; None = any town
    origin: str = "mimamori-ingest"  # the package that ships the spec (adapter SDK)
    row_hook: RowHook | None = field(default=None, compare=False)  # the spec's `hooks: {row: …}`
    row_hook_name: str = ""
    header: tuple[str, ...] = field(init=False)  # the header row, exactly
    key_positions: tuple[int, ...] = field(init=False)  # where the key columns are in a row
    free_text_positions: tuple[int, ...] = field(init=False)  # where the free-text columns are
    key_parsed: bool = field(init=False)  # key values compared in parsed form (R5.4.1 = 令和5年4月1日)

    def __post_init__(self) -> None:
        header = tuple(c.name for c in self.columns)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "key_positions", tuple(header.index(k) for k in self.key if k in header))
        object.__setattr__(self, "free_text_positions", tuple(i for i, c in enumerate(self.columns) if c.free_text))
        object.__setattr__(self, "key_parsed", any(_parsed_in_keys(self.columns[i].type) for i in self.key_positions))


def _parsed_in_keys(value_type: ValueType) -> bool:
    if isinstance(value_type, Date):
        return value_type.format != "YYYYMMDD"
    return isinstance(value_type, DateTime | Integer)


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
    "date_outside_era": "元号の期間外の日付です (和暦の年と月日が合いません)",
    "invalid_datetime": "{expected}ではありません",
    "invalid_month": "{expected}ではありません",
    "invalid_integer": "{expected}ではありません",
    "out_of_range": "範囲外の値です ({expected})",
    "duplicate_row": "同じファイルの前の行と同じ内容です (二重出力)",
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
