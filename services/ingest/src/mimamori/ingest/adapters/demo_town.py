"""The demo town of the embedded form: a small synthetic town (mimamori.synthtown) and a child to look up."""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

log = logging.getLogger("mimamori.ingest")

HINT_FILE = "demo.json"


@dataclass(frozen=True, slots=True)
class DemoTown:
    """The generated files and the 宛名番号 of a demo child (resident, of school age, not under 支援措置)."""

    jumin: Path
    child_atena: str | None


def generate_demo_town(
    directory: Path, *, municipality: str, month: str = "202604", households: int = 150, seed: int = 1
) -> DemoTown | None:
    """Write the town's files for one month into `directory`; None when synthtown is not installed."""
    try:
        from mimamori.synthtown import generate_town
    except ImportError:
        log.warning("demo town not generated: mimamori-synthtown is not installed")
        return None
    truth = generate_town(
        seed=seed, households=households, months=[month], out_dir=directory, municipality_code=municipality
    )
    jumin = directory / f"jumin_{month}.csv"
    preferred = [
        atena
        for subjects in truth.scenarios.values()
        for truth_id in subjects
        if (atena := truth.persons[truth_id].atena) is not None
    ]
    child = pick_child(jumin, month=month, preferred=preferred)
    (directory / HINT_FILE).write_text(json.dumps({"month": month, "child_atena": child}), encoding="utf-8")
    return DemoTown(jumin=jumin, child_atena=child)


def read_hint(directory: Path) -> str | None:
    """The demo child of a town generated before, if any."""
    try:
        hint = json.loads((directory / HINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    child = hint.get("child_atena")
    return child if isinstance(child, str) else None


def _school_age(birth: str, *, month: str) -> bool:
    """小1–中3 in the school year (April–March) that holds the month."""
    year, mon = int(month[:4]), int(month[4:])
    school_year = year if mon >= 4 else year - 1
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        return False
    return date(school_year - 16, 4, 2) <= born <= date(school_year - 6, 4, 1)


def pick_child(jumin: Path, *, month: str, preferred: list[str]) -> str | None:
    """A resident school-age child without 支援措置; a preferred one (a planted scenario) if any."""
    eligible: list[str] = []
    with jumin.open(encoding="cp932", newline="") as stream:
        reader = csv.DictReader(stream)
        for row in reader:
            if row["住民区分"] == "住民" and not row["支援措置"] and _school_age(row["生年月日"], month=month):
                eligible.append(row["宛名番号"])
    allowed = set(eligible)
    for atena in preferred:
        if atena in allowed:
            return atena
    return eligible[0] if eligible else None
