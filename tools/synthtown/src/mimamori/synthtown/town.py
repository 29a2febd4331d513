"""generate_town: the monthly export files of a synthetic 開成町 and their ground truth."""

from __future__ import annotations

from datetime import datetime, time
from itertools import pairwise
from pathlib import Path

from mimamori.synthtown.exports import EXPORTS
from mimamori.synthtown.layouts import LAYOUTS
from mimamori.synthtown.months import Month
from mimamori.synthtown.output import write_csv, write_xlsx
from mimamori.synthtown.scenarios import SCENARIOS
from mimamori.synthtown.simulation import TownSimulation
from mimamori.synthtown.truth import TownTruth, TruthPerson, write_truth


def parse_months(codes: list[str]) -> list[Month]:
    """YYYYMM codes of consecutive months, oldest first."""
    if not codes:
        raise ValueError("at least one month is needed")
    months = [Month.parse(code) for code in codes]
    for earlier, later in pairwise(months):
        if later != earlier.shift(1):
            raise ValueError(f"months must be consecutive: {earlier.code} is followed by {later.code}")
    return months


def generate_town(
    *,
    seed: int,
    households: int,
    months: list[str],
    out_dir: Path,
    municipality_code: str = "143669",
    noise: bool = True,
) -> TownTruth:
    """Write every source's file for each month into `out_dir`, plus `out_dir/truth/`; return the truth."""
    if households < 1:
        raise ValueError("a town needs at least one household")
    calendar = parse_months(months)
    out_dir.mkdir(parents=True, exist_ok=True)
    simulation = TownSimulation(
        seed=seed, households=households, months=calendar, municipality_code=municipality_code, noise=noise
    )
    simulation.build()
    truth = TownTruth(
        seed=seed, months=[m.code for m in calendar], municipality_code=municipality_code, noise=noise
    )
    for index, month in enumerate(calendar):
        simulation.advance(index)
        simulation.record_activity(index)
        stamp = datetime.combine(month.last_day, time(23, 0))
        for layout in LAYOUTS:
            rows = EXPORTS[layout.source](simulation.town, month)
            path = out_dir / layout.file_name(month.code)
            cells = (row.cells for row in rows)
            if layout.ext == "xlsx":
                write_xlsx(path, layout, cells, stamp=stamp)
            else:
                write_csv(path, layout, cells)
            truth.rows[path.name] = [row.refs for row in rows]
    truth.persons = {person.truth_id: TruthPerson.of(person) for person in simulation.town.persons}
    notes = {scenario.tag: scenario.note for scenario in SCENARIOS}
    for tag, subjects in simulation.town.scenarios.items():
        truth.scenarios[tag] = [subject.truth_id for subject in subjects]
        truth.scenario_notes[tag] = notes[tag]
    write_truth(truth, out_dir)
    return truth
