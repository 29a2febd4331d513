"""Matching quality on a small labelled synthetic town with noise (the bench runs a larger one)."""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from mimamori.identity.domain.matching import Resolution, resolve_batch
from mimamori.synthtown import generate_town

BENCH = Path(__file__).resolve().parents[4] / "bench" / "identity_town.py"


def _reader() -> ModuleType:
    spec = importlib.util.spec_from_file_location("identity_town", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("identity_town", module)  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def town_and_answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, dict[str, tuple[Resolution, ...]]]:
    out = tmp_path_factory.mktemp("town")
    generate_town(seed=3, households=150, months=["202603", "202604", "202605", "202606"], out_dir=out)
    town = _reader().read_town(out)
    return town, resolve_batch(town.residents, town.rows)


def _truth_of(town: object, row_key: str, role: str) -> str | None:
    file_name, number = row_key.split("#")
    return town.truth.get((file_name, int(number), role))  # type: ignore[attr-defined]


def test_every_source_meets_precision_and_recall(town_and_answers: tuple[object, dict]) -> None:
    town, answers = town_and_answers
    scores = _reader().score(town, answers)
    assert len(scores) == 18
    for source, s in scores.items():
        d = s.as_dict()
        assert d["references"] > 0, source
        assert d["precision"] >= 0.999, (source, d)
        assert d["recall"] >= 0.99, (source, d)


def test_no_reference_links_automatically_to_the_wrong_person(town_and_answers: tuple[object, dict]) -> None:
    town, answers = town_and_answers
    truth_of_person = {f"P{a}": t for a, t in town.truth_of_atena.items()}
    wrong = [
        (row.key, ref.role)
        for row in town.rows
        for ref, answer in zip(row.references, answers[row.key], strict=True)
        if answer.linked is not None and truth_of_person[answer.linked] != _truth_of(town, row.key, ref.role)
    ]
    assert wrong == []


def test_outsiders_link_to_nobody(town_and_answers: tuple[object, dict]) -> None:
    town, answers = town_and_answers
    outsiders = [
        answer
        for row in town.rows
        for ref, answer in zip(row.references, answers[row.key], strict=True)
        if (truth := _truth_of(town, row.key, ref.role)) is not None and truth not in town.resident_truth
    ]
    assert any(row.source == "gyakutai_tsukoku" for row in town.rows)
    assert outsiders, "the town has a non-resident abuse-list child and a visiting family"
    assert all(a.linked is None and not (a.needs_review and a.person_id) for a in outsiders)


def test_renamed_persons_and_school_changers_are_linked_right(town_and_answers: tuple[object, dict]) -> None:
    town, answers = town_and_answers
    truth_of_person = {f"P{a}": t for a, t in town.truth_of_atena.items()}
    renamed = {r.person_id for r in town.residents if len(r.names) > 1}
    assert renamed, "the town has a marriage and a divorce (氏名変更)"
    pupil_keys: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in town.rows:
        for ref, answer in zip(row.references, answers[row.key], strict=True):
            truth = _truth_of(town, row.key, ref.role)
            if row.source == "koumu_meibo" and ref.role == "child" and truth:
                pupil_keys[truth].add((ref.school_code, ref.student_no))
            if truth in {truth_of_person[p] for p in renamed}:
                assert truth in {truth_of_person[p] for p in answer.proposed}, (row.key, ref.role, answer.reason)
    changers = {t for t, keys in pupil_keys.items() if len(keys) > 1}
    assert changers, "a child changes school (new 学校コード and 児童生徒番号)"
    for row in town.rows:
        for ref, answer in zip(row.references, answers[row.key], strict=True):
            if _truth_of(town, row.key, ref.role) in changers and row.source.startswith("koumu"):
                assert answer.linked is not None and truth_of_person[answer.linked] in changers


def test_twins_and_namesakes_are_kept_apart(town_and_answers: tuple[object, dict]) -> None:
    town, answers = town_and_answers
    by_birth: dict[str, list[str]] = defaultdict(list)
    for r in town.residents:
        by_birth[r.birth_iso].append(r.person_id)
    pairs = {pid for pids in by_birth.values() if len(pids) > 1 for pid in pids}
    truth_of_person = {f"P{a}": t for a, t in town.truth_of_atena.items()}
    checked = 0
    for row in town.rows:
        for ref, answer in zip(row.references, answers[row.key], strict=True):
            if answer.linked in pairs:
                checked += 1
                assert truth_of_person[answer.linked] == _truth_of(town, row.key, ref.role)
    assert checked > 0
