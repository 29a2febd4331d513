"""母子保健: 妊娠届, pregnancies that end in births during the months, and 健診 of mothers and infants."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from mimamori.synthtown.model import HealthCheck, LogEntry, Person, PersonRef, Town
from mimamori.synthtown.months import Month, add_months
from mimamori.synthtown.vocabulary import (
    HOSPITALS,
    KENSHIN_CHILD_NOTES,
    KENSHIN_MISSED_NOTE,
    KENSHIN_MOTHER_NOTES,
    KENSHIN_TOKUTEI_NOTE,
)

CHILD_CHECKS: tuple[tuple[str, int], ...] = (("乳児4か月", 4), ("1歳6か月", 18), ("3歳", 36))


@dataclass(eq=False)
class Pregnancy:
    mother: Person
    due: date
    tokutei: bool


def notify_pregnancy(town: Town, *, mother: Person, due: date, rng: random.Random, tokutei: bool) -> None:
    """妊娠届 about 29 weeks before the due date, and the 妊婦健診 some months later."""
    weeks = rng.randint(8, 14)
    filed = due - timedelta(weeks=40 - weeks)
    informant = rng.choice(HOSPITALS) if tokutei and rng.random() < 0.6 else ""
    cells = (
        mother.atena,
        filed.strftime("%Y%m%d"),
        due.strftime("%Y%m%d"),
        str(weeks),
        "1" if tokutei else "0",
        informant,
    )
    town.log("ninshin", LogEntry(filed, cells, (PersonRef(mother.truth_id, "subject"),)))
    check_day = due - timedelta(days=rng.randint(60, 120))
    town.health_checks.append(
        HealthCheck(
            mother, "妊婦", Month.of(check_day), check_day, _result(rng), None, _mother_note(rng, tokutei)
        )
    )


def schedule_infant_checks(town: Town, *, child: Person, rng: random.Random, until: Month) -> None:
    """乳幼児健診 whose 対象年月 falls by `until`; a few children never come (未受診)."""
    never = rng.random() < 0.05
    for kind, months in CHILD_CHECKS:
        target = Month.of(add_months(child.birth, months))
        if target > until:
            continue
        missed = never or rng.random() < 0.03
        exam = None if missed else target.first_day + timedelta(days=rng.randint(0, 40))
        note = (
            KENSHIN_MISSED_NOTE if missed else rng.choice(KENSHIN_CHILD_NOTES) if rng.random() < 0.2 else ""
        )
        town.health_checks.append(
            HealthCheck(child, kind, target, exam, "" if missed else _result(rng), None, note)
        )


def schedule_postnatal_checks(town: Town, *, mother: Person, birth: date, rng: random.Random) -> None:
    """産婦健診 2週 and 1か月 with an EPDS score; a few mothers miss them."""
    epds = rng.choices((rng.randint(0, 8), rng.randint(9, 20)), (0.88, 0.12))[0]
    for kind, days in (("産婦2週", 14), ("産婦1か月", 30)):
        exam_day = birth + timedelta(days=days + rng.randint(0, 5))
        missed = rng.random() < 0.04
        score = max(0, min(30, epds + rng.randint(-2, 2)))
        note = "母の疲労感が強い。地区担当保健師が訪問予定。" if score >= 9 else ""
        town.health_checks.append(
            HealthCheck(
                mother,
                kind,
                Month.of(exam_day),
                None if missed else exam_day,
                "" if missed else ("要フォロー" if score >= 9 else "異常なし"),
                None if missed else score,
                note,
            )
        )


def record_past_birth(
    town: Town, *, child: Person, mother: Person | None, rng: random.Random, until: Month
) -> None:
    """Health history of a child born in the town before the first month."""
    schedule_infant_checks(town, child=child, rng=rng, until=until)
    if mother is None or mother.atena is None or mother.resident_since > child.birth:
        return
    due = child.birth + timedelta(days=rng.randint(-10, 10))
    notify_pregnancy(town, mother=mother, due=due, rng=rng, tokutei=rng.random() < 0.03)
    schedule_postnatal_checks(town, mother=mother, birth=child.birth, rng=rng)


def _result(rng: random.Random) -> str:
    return rng.choices(("異常なし", "要観察", "要精密", "要フォロー"), (0.75, 0.12, 0.05, 0.08))[0]


def _mother_note(rng: random.Random, tokutei: bool) -> str:
    if tokutei:
        return KENSHIN_TOKUTEI_NOTE
    return rng.choice(KENSHIN_MOTHER_NOTES) if rng.random() < 0.2 else ""
