"""The identity benchmark's data and scoring (bench/identity_data.py), and the analyst's normalisation of the
Splink bench: small sizes, no splink needed (it is imported only when a Splink run starts)."""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import identity_data
import identity_splink

SIZE, PUPILS = 3000, 500


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("identity")
    identity_data.generate(out, size=SIZE, pupils=PUPILS, seed=7)
    return out


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_files(data: Path, tmp_path: Path) -> None:
    identity_data.generate(tmp_path, size=SIZE, pupils=PUPILS, seed=7)
    for name in ("residents.csv", "pupils.csv", "truth.csv"):
        assert _digest(tmp_path / name) == _digest(data / name), name


def test_layouts_sizes_and_truth(data: Path) -> None:
    with (data / "residents.csv").open(encoding="cp932", newline="") as handle:
        residents = list(csv.reader(handle))
    assert tuple(residents[0]) == identity_data.LAYOUT_BY_SOURCE["jumin"].headers
    assert len(residents) == SIZE + 1
    assert (data / "residents.csv").read_bytes().count(b"\r\n") == SIZE + 1
    with (data / "pupils.csv").open(encoding="utf-8-sig", newline="") as handle:
        pupils = list(csv.DictReader(handle))
    assert len(pupils) == PUPILS
    assert tuple(pupils[0]) == identity_data.ROLL_HEADERS
    truth, tags = identity_data.load_truth(data)
    assert list(truth) == [p["pupil_id"] for p in pupils]
    atena = {row[0]: row for row in residents[1:]}
    non_residents = [p for p, a in truth.items() if a is None]
    assert len(non_residents) == round(PUPILS * identity_data.NON_RESIDENT_SHARE)
    assert all("nonresident" in tags[p] for p in non_residents)
    for pupil in pupils:
        expected = truth[pupil["pupil_id"]]
        if expected is None:
            continue
        resident = atena[expected]
        assert resident[11] == "住民"  # only current residents are on the roll
        assert 1 <= int(pupil["学年"]) <= 9
        if not {"dob_typo"} & set(tags[pupil["pupil_id"]]):
            assert pupil["生年月日"].replace("-", "") == resident[5]
        if not {"sex_error"} & set(tags[pupil["pupil_id"]]):
            assert {"男": "1", "女": "2"}[pupil["性別"]] == resident[4]


def test_residents_hold_the_documented_noise(data: Path, tmp_path: Path) -> None:
    text = (data / "residents.csv").read_bytes().decode("cp932")
    assert any(c in text for c in "髙﨑邊邉齋齊濵濱德冨")
    assert "ｶ" in text or "ｻ" in text  # half-width kana
    assert "番地" in text and "神奈川県足柄上郡開成町" in text
    roll = (data / "pupils.csv").read_text(encoding="utf-8-sig")
    assert "男" in roll and "女" in roll and "開成町" in roll


def test_the_analysts_normalisation_meets_in_the_middle() -> None:
    resident = identity_splink.norm_address("神奈川県足柄上郡開成町延沢１２３番地の４　メゾン開成１０１")
    for typed in ("開成町延沢123-4 メゾン開成101", "足柄上郡開成町延沢１２３－４　メゾン開成１０１"):
        assert identity_splink.norm_address(typed) == resident
    assert resident["addr_core"] == "開成町延沢123-4"
    assert identity_splink.norm_kana("ﾔﾏﾀﾞ ﾊﾅｺ") == identity_splink.norm_kana("やまだ はなこ") == "ヤマダ ハナコ"
    assert identity_splink.norm_name("髙橋　陽翔") == "高橋 陽翔"
    assert identity_splink.norm_name("\ue001田　一郎") is None
    assert identity_splink.split_name("高橋陽翔", frozenset({"高橋"})) == ("高橋", "陽翔")


def test_evaluate_counts_each_kind_of_error() -> None:
    truth = {"P1": "A1", "P2": "A2", "P3": "A3", "P4": None, "P5": "A5"}
    tags = {"P1": ("plain",), "P2": ("twin",), "P3": ("twin",), "P4": ("nonresident",), "P5": ("plain",)}
    links = {"P1": "A1", "P2": "A3", "P4": "A9", "P5": None}
    result = identity_data.evaluate(links, truth, tags)
    assert (result["links"], result["right"], result["wrong_person"], result["non_resident_linked"]) == (3, 1, 1, 1)
    assert result["missed"] == 2
    assert result["precision"] == round(1 / 3, 5) and result["recall"] == 0.25
    assert result["by_tag"]["twin"]["wrong_person"] == 1
    assert identity_splink.evaluate is identity_data.evaluate
    perfect = identity_data.evaluate({p: a for p, a in truth.items() if a}, truth)
    assert perfect["precision"] == perfect["recall"] == 1.0
    with pytest.raises(ValueError):
        identity_data.evaluate({"P9": "A1"}, truth)
