from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from mimamori.synthtown import TownTruth, generate_town

MONTHS = ["202604", "202605", "202606"]

ENCODINGS = {
    "cp932": (
        "jumin",
        "jidou_teate",
        "jidou_fuyou",
        "hitorioya_iryo",
        "shogai_techo",
        "shogai_service",
        "hoiku",
        "kenshin",
        "ninshin",
        "soudan",
        "zeimu",
    ),
    "utf-8-sig": ("koumu_meibo", "koumu_shusseki", "koumu_hokenshitsu"),
    "utf-8": ("kosodate_center",),
}


class GeneratedTown:
    """A generated town on disk with its truth, and readers for its files."""

    def __init__(self, out_dir: Path, truth: TownTruth) -> None:
        self.out_dir = out_dir
        self.truth = truth

    def path(self, source: str, month: str) -> Path:
        matches = list(self.out_dir.glob(f"{source}_{month}.*"))
        assert len(matches) == 1, (source, month, matches)
        return matches[0]

    def rows(self, source: str, month: str) -> list[dict[str, object]]:
        """Data rows as dicts keyed by header (text for CSV; cell values for XLSX)."""
        path = self.path(source, month)
        if path.suffix == ".xlsx":
            sheet = openpyxl.load_workbook(path).worksheets[0]
            values = list(sheet.iter_rows(values_only=True))
            header = [str(v) for v in values[0]]
            return [dict(zip(header, row, strict=True)) for row in values[1:]]
        encoding = next(enc for enc, sources in ENCODINGS.items() if source in sources)
        text = path.read_bytes().decode(encoding)
        return list(csv.DictReader(io.StringIO(text, newline="")))

    @staticmethod
    def parse_date(value: object) -> date:
        return parse_any_date(value)


@pytest.fixture(scope="session")
def town(tmp_path_factory: pytest.TempPathFactory) -> GeneratedTown:
    out_dir = tmp_path_factory.mktemp("town")
    truth = generate_town(seed=7, households=300, months=MONTHS, out_dir=out_dir)
    return GeneratedTown(out_dir, truth)


def parse_any_date(value: object) -> date:
    """A date as a source writes it: YYYYMMDD, ISO, YYYY/MM/DD, a date cell, or 和暦 (R/H, 令和/平成)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    bases = {"R": 2018, "令和": 2018, "H": 1988, "平成": 1988}
    if m := re.fullmatch(r"([RH])(\d+)\.(\d+)\.(\d+)", text):
        return date(bases[m[1]] + int(m[2]), int(m[3]), int(m[4]))
    if m := re.fullmatch(r"(令和|平成)(\d+|元)年(\d+)月(\d+)日", text):
        year = 1 if m[2] == "元" else int(m[2])
        return date(bases[m[1]] + year, int(m[3]), int(m[4]))
    raise ValueError(f"not a date: {value!r}")
