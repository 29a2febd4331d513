from __future__ import annotations

import re
import time
from pathlib import Path

import openpyxl
import pytest
from mimamori.synthtown import generate_town
from mimamori.synthtown.__main__ import main
from mimamori.synthtown.atena import has_valid_check_digit


def test_without_noise_names_are_plain_numbers_standard_and_dates_long_wareki(tmp_path: Path) -> None:
    truth = generate_town(seed=5, households=120, months=["202604", "202605"], out_dir=tmp_path, noise=False)
    assert all(person.name == person.legal_name for person in truth.persons.values())
    assert all(has_valid_check_digit(p.atena) for p in truth.persons.values() if p.atena)
    assert all(
        person.recorded_birth == person.birth_date.strftime("%Y%m%d") for person in truth.persons.values()
    )
    sheet = openpyxl.load_workbook(tmp_path / "ssw_soudan_202605.xlsx").worksheets[0]
    received = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert received and all(re.fullmatch(r"(令和|平成)\d+年\d+月\d+日", value) for value in received)
    shusseki = (tmp_path / "koumu_shusseki_202605.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(shusseki) == len(set(shusseki))


def test_thousand_households_over_three_months_take_seconds(tmp_path: Path) -> None:
    started = time.perf_counter()
    truth = generate_town(seed=1, households=1000, months=["202604", "202605", "202606"], out_dir=tmp_path)
    assert time.perf_counter() - started < 20
    assert len(truth.rows) == 57 and len(truth.persons) > 2000


def test_months_must_be_consecutive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="consecutive"):
        generate_town(seed=1, households=10, months=["202604", "202606"], out_dir=tmp_path)


def test_cli_writes_a_town(tmp_path: Path) -> None:
    code = main(["--out", str(tmp_path), "--households", "30", "--months", "202603,202604", "--seed", "3"])
    assert code == 0
    assert (tmp_path / "jumin_202604.csv").exists() and (tmp_path / "truth" / "references.csv").exists()


def test_cli_rejects_a_malformed_month(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--months", "2026-04"])
