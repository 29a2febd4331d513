"""Fuzz: mutated files of every layout (seeded from a synthtown month) thrown at the readers, hooks, checks and
mappers. No crash (a file is either rejected whole with a StructuralError or its rows are loaded or quarantined),
the counts add up, every failure names its file and row (and column), never a value, and no free text reaches an
event. Deterministic (seeded), bounded (a few seconds in all)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from mimamori.ingest.adapters.layouts import builtin_layouts
from mimamori.ingest.domain.layout import Layout
from mimamori.ingest.mutations import mutants
from mimamori.ingest.service_layer.trial import Trial, try_file
from mimamori.synthtown import generate_town

LAYOUTS = builtin_layouts()
MUTANTS = {"csv": 40, "xlsx": 16}
MONTH = "202604"


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("town")
    generate_town(seed=11, households=20, months=[MONTH], out_dir=out)
    return out


def explained(trial: Trial, *, layout: Layout, how: str) -> None:
    """Every failure names the file and row (and column); the counts add up."""
    name = trial.file_name
    if trial.error is not None:
        error = trial.error
        assert error.code and name in error.message, (how, error.code)
        if error.row:
            assert f"{error.row} 行目" in error.message, (how, error.message)
        assert not trial.records and not trial.events and not trial.problems, how
        return
    assert len(trial.records) + trial.quarantined == trial.total, how
    assert len(trial.events) == len(trial.records), how
    columns = {*layout.header, "・".join(layout.key), ""}
    for problem in trial.problems:
        row, column, reason = problem["row"], problem["column"], problem["reason"]
        assert row >= 1 and column in columns and problem["reason_code"], (how, problem)
        assert name in reason and f"{row} 行目" in reason, (how, reason)
        if column:
            assert f"「{column}」" in reason, (how, reason)
    for record, event in zip(trial.records, trial.events, strict=True):
        payload = event.SerializeToString()
        for position in layout.free_text_positions:
            text = record.values[position]
            assert len(text) < 4 or text.encode() not in payload, (how, "free text in an event")


@pytest.mark.parametrize("source", sorted(LAYOUTS))
def test_mutated_files_are_rejected_whole_or_loaded_row_by_row(town: Path, source: str) -> None:
    layout = LAYOUTS[source]
    name = f"{source}_{MONTH}.{layout.extension}"
    seed = (town / name).read_bytes()
    original = try_file(lambda: io.BytesIO(seed), file_name=name, layout=layout, layouts=LAYOUTS, municipality="143669")
    assert original.error is None and original.records, "the seed file loads"
    rng = random.Random(f"fuzz/{source}")
    outcomes = {"rejected": 0, "loaded": 0}
    for mutant in mutants(seed, file_format=layout.format, encoding=layout.encoding, rng=rng,
                          count=MUTANTS[layout.format]):  # fmt: skip
        data = mutant.data
        trial = try_file(lambda d=data: io.BytesIO(d), file_name=name, layout=layout, layouts=LAYOUTS,
                         municipality="143669")  # fmt: skip
        explained(trial, layout=layout, how=mutant.how)
        outcomes["rejected" if trial.error is not None else "loaded"] += 1
    assert outcomes["rejected"] and outcomes["loaded"], outcomes  # both ways out were exercised
