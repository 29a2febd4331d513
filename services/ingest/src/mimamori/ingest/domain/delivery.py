"""Deliveries: file names of the source systems, states of a load run, and why a whole file is refused."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

# The 19 reference layouts of the town's systems (/work/shared/sources/README.md), by file-name prefix.
KNOWN_SOURCES: dict[str, str] = {
    "jumin": "住民記録",
    "jidou_teate": "児童手当",
    "jidou_fuyou": "児童扶養手当",
    "hitorioya_iryo": "ひとり親家庭等医療費助成",
    "shogai_techo": "障害者手帳",
    "shogai_service": "障害福祉サービス受給者証",
    "hoiku": "保育所等在籍",
    "kenshin": "母子保健 健診",
    "ninshin": "妊娠届",
    "koumu_meibo": "児童生徒名簿",
    "koumu_shusseki": "出欠記録",
    "koumu_hokenshitsu": "保健室来室記録",
    "soudan": "相談記録",
    "ssw_soudan": "SC/SSW 相談記録",
    "gyakutai_tsukoku": "虐待通告状況",
    "seiho": "生活保護受給状況",
    "shugaku_enjo": "就学援助認定状況",
    "kosodate_center": "子育て支援センター利用記録",
    "zeimu": "住民税課税状況",
}

_FILE_NAME = re.compile(r"^(?P<source>[a-z][a-z_]*[a-z])_(?P<month>\d{6})\.(?P<ext>[A-Za-z0-9]+)$")


class FileNameRejected(ValueError):
    """A file name that is not `<source>_<YYYYMM>.<ext>` or names no known layout; `code` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class DeliveredFileName:
    """`<source>_<YYYYMM>.<ext>`: which layout the file claims to be and the month it was extracted."""

    name: str
    source: str
    month: str
    extension: str

    @classmethod
    def parse(cls, name: str, *, known: Collection[str] = KNOWN_SOURCES) -> DeliveredFileName:
        """The parts of a delivered file's name; FileNameRejected when it is not a source file name.

        `known`: the sources that exist (the 19 reference layouts, plus any an adapter package adds)."""
        match = _FILE_NAME.match(name)
        if match is None:
            raise FileNameRejected(
                "invalid_file_name",
                f"ファイル名「{name}」は「<データ種別>_<YYYYMM>.<拡張子>」の形式ではありません",
            )
        month = match["month"]
        if not 1 <= int(month[4:]) <= 12:
            raise FileNameRejected("invalid_file_name", f"ファイル名「{name}」の年月 (YYYYMM) が正しくありません")
        source = match["source"]
        if source not in KNOWN_SOURCES and source not in known:
            raise FileNameRejected(
                "unknown_layout", f"ファイル名「{name}」のデータ種別「{source}」は登録されていません"
            )
        return cls(name=name, source=source, month=month, extension=match["ext"].lower())


def source_title(source: str) -> str:
    """`住民記録 (jumin)`: how staff read a layout's name."""
    return f"{KNOWN_SOURCES.get(source, source)} ({source})"


class RunStatus(enum.StrEnum):
    """Where a load run stands."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # something broke while loading (database, storage); the file is not accepted
    REJECTED = "rejected"  # the file itself is unusable as a whole; nothing was changed

    @property
    def finished(self) -> bool:
        """Whether the run has ended."""
        return self in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.REJECTED)


@dataclass(frozen=True, slots=True)
class DeliveredFile:
    """One delivery of a file: its name, what it claims to be, and its bytes' digest and size."""

    id: str
    name: str
    source: str
    month: str
    sha256: str
    size: int
    received_at: datetime
    received_by: str = ""
    accepted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoadRun:
    """One attempt to load one delivered file, with its tally."""

    id: str
    file: DeliveredFile
    status: RunStatus
    created_at: datetime
    requested_by: str = ""
    duplicate_of: str | None = None
    total_rows: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    progress: float = 0.0
    removals_withheld: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None


class StructuralError(Exception):
    """A delivered file that cannot be loaded as a whole. The message names file (and row), never a value."""

    def __init__(self, code: str, message: str, *, row: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.row = row


def _where(file_name: str, row: int | None) -> str:
    if row is None:
        return f"ファイル「{file_name}」"
    if row == 0:
        return f"ファイル「{file_name}」の見出し行"
    return f"ファイル「{file_name}」の {row} 行目"


def undecodable(file_name: str, *, encoding: str, row: int) -> StructuralError:
    """Bytes that are not text in the layout's encoding."""
    label = {"cp932": "CP932 (Shift_JIS)", "utf-8": "UTF-8", "utf-8-sig": "UTF-8"}.get(encoding, encoding)
    return StructuralError("undecodable", f"{_where(file_name, row)}に {label} として読めないバイトがあります", row=row)


def empty_file(file_name: str) -> StructuralError:
    """No header row at all."""
    return StructuralError("empty_file", f"ファイル「{file_name}」が空です (見出し行がありません)", row=0)


def no_rows(file_name: str) -> StructuralError:
    """A full snapshot without data rows would remove every record: refused."""
    return StructuralError(
        "no_rows", f"ファイル「{file_name}」にデータ行がありません (全件データとして取り込めません)", row=None
    )


def older_snapshot(file_name: str, *, month: str, latest: str) -> StructuralError:
    """A full snapshot of a month before the latest one loaded would turn the current records back: refused."""
    return StructuralError(
        "older_snapshot",
        f"ファイル「{file_name}」は {month} 分の全件データですが、より新しい {latest} 分が取り込み済みです"
        " (古い月の全件データで現在の記録を戻すことはできません。月の順に取り込むか、最新月の訂正版を送ってください)",
        row=None,
    )


def header_mismatch(
    file_name: str, *, source: str, missing: list[str], present: int, unexpected: int, order: bool
) -> StructuralError:
    """A header that is not the layout's. Unexpected headings are only counted: they may be data."""
    parts = []
    if missing and not present:
        parts.append("該当する列名がありません。見出し行がないか、別の形式のファイルです")
    elif missing:
        parts.append("不足している列: " + "、".join(missing))
    if unexpected:
        parts.append(f"想定外の列: {unexpected} 個")
    if order and not parts:
        parts.append("列の順序が異なります")
    return StructuralError(
        "header_mismatch",
        f"{_where(file_name, 0)}が{source_title(source)}の形式と一致しません ({'; '.join(parts)})",
        row=0,
    )


def other_layout(file_name: str, *, claimed: str, actual: str) -> StructuralError:
    """The header is another known layout's, not the one the file name claims."""
    return StructuralError(
        "layout_mismatch",
        f"ファイル「{file_name}」は名前からは{source_title(claimed)}ですが、見出し行は{source_title(actual)}の形式です",
        row=0,
    )


def truncated(file_name: str, *, row: int) -> StructuralError:
    """The last row ends without its line end (or inside quotes): the file was cut short."""
    return StructuralError(
        "truncated", f"{_where(file_name, row)} (最終行) が途中で切れています (ファイルが不完全です)", row=row
    )


def wrong_line_end(file_name: str, *, row: int, expected: str) -> StructuralError:
    """A row whose line end is not the layout's."""
    return StructuralError(
        "line_end", f"{_where(file_name, row)}の改行コードが {expected.upper()} ではありません", row=row
    )


def malformed_csv(file_name: str, *, row: int) -> StructuralError:
    """Quoting the CSV reader cannot follow."""
    return StructuralError("malformed_csv", f"{_where(file_name, row)}を CSV として読めません (引用符の誤り)", row=row)


def wrong_extension(file_name: str, *, source: str, expected: str) -> FileNameRejected:
    """A known layout delivered with another file type."""
    return FileNameRejected(
        "wrong_extension",
        f"ファイル「{file_name}」: {source_title(source)}は .{expected} ファイルで受け付けます",
    )


def not_supported(file_name: str, *, source: str) -> FileNameRejected:
    """A known layout whose adapter is not written yet."""
    return FileNameRejected(
        "layout_not_supported",
        f"ファイル「{file_name}」: {source_title(source)}の取込みにはまだ対応していません",
    )


def bad_xlsx(file_name: str, *, row: int | None = None) -> StructuralError:
    """Not a readable XLSX workbook (not a zip, truncated, damaged XML)."""
    return StructuralError(
        "bad_xlsx", f"{_where(file_name, row)}を XLSX (Excel ブック) として読めません (破損または別形式)", row=row
    )


def xlsx_too_large(file_name: str, *, what: str) -> StructuralError:
    """An XLSX whose parts would expand beyond the limits (zip bomb, huge shared strings): never parsed."""
    return StructuralError(
        "xlsx_too_large",
        f"ファイル「{file_name}」は展開後の大きさが上限を超えるため読み込みません ({what})",
        row=None,
    )


def missing_sheet(file_name: str, *, source: str, sheet: str, other: str | None = None) -> StructuralError:
    """The workbook lacks the layout's sheet (maybe it holds another layout's)."""
    if other is not None:
        return StructuralError(
            "layout_mismatch",
            f"ファイル「{file_name}」は名前からは{source_title(source)}ですが、シートは{source_title(other)}のものです",
            row=None,
        )
    return StructuralError(
        "missing_sheet", f"ファイル「{file_name}」にシート「{sheet}」がありません ({source_title(source)})", row=None
    )


def hook_failed(file_name: str, *, row: int, hook: str) -> StructuralError:
    """An adapter package's row hook refused a row: the package's layout does not fit this file."""
    return StructuralError(
        "hook_failed",
        f"{_where(file_name, row)}を取込み定義の行変換 ({hook}) が処理できません (定義とファイルが合っていません)",
        row=row,
    )
