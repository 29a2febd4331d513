"""Consultations (相談記録, SC/SSW), support-centre visits (子育て支援センター) and 虐待通告."""

from __future__ import annotations

import random
from datetime import date, timedelta

from mimamori.synthtown.addresses import typed_address
from mimamori.synthtown.kana import to_hiragana
from mimamori.synthtown.kinship import parents_of
from mimamori.synthtown.model import AbuseReport, Household, LogEntry, Person, PersonRef, Town
from mimamori.synthtown.months import Month, grade_on
from mimamori.synthtown.school import children_at_school, short_school_name
from mimamori.synthtown.spelling import typed_date, typed_furigana, typed_name
from mimamori.synthtown.vocabulary import (
    ABUSE_KINDS,
    ABUSE_SOURCES,
    KOSODATE_MEMOS,
    SOUDAN_CATEGORIES,
    SOUDAN_SUMMARIES,
    SSW_CATEGORIES,
    SSW_SUMMARIES,
)


def random_day(month: Month, rng: random.Random, *, weekdays: bool = True) -> date:
    """A day of the month (a weekday unless told otherwise)."""
    while True:
        day = month.day(rng.randint(1, month.last_day.day))
        if not weekdays or day.weekday() < 5:
            return day


# 相談記録 (soudan) ----------------------------------------------------------------------------------


def record_consultation(
    town: Town,
    *,
    rng: random.Random,
    kind: str,
    day: date,
    consulter: Person,
    subject: Person | None = None,
    child: Person | None = None,
    child_birth: bool = True,
) -> None:
    """A 相談記録. `subject` is named by 宛名番号 (the system looked them up); others by name only."""
    number = len(town.logs.get("soudan", ())) + 1
    consulter_name = (
        consulter.legal_name if subject is consulter else typed_name(consulter, rng, noise=town.noise)
    )
    cells = (
        f"SD{number:06d}",
        kind,
        day.strftime("%Y%m%d"),
        subject.atena if subject is not None and subject.atena else "",
        consulter_name,
        typed_name(child, rng, noise=town.noise) if child else "",
        child.birth.strftime("%Y%m%d") if child and child_birth else "",
        rng.choice(SOUDAN_CATEGORIES[kind]),
        rng.choice(_summaries(kind, child, day)),
    )
    refs = [PersonRef(consulter.truth_id, "consulter")]
    if subject is not None and subject.atena:
        refs.insert(0, PersonRef(subject.truth_id, "subject"))
    if child is not None:
        refs.append(PersonRef(child.truth_id, "child"))
    town.log("soudan", LogEntry(day, cells, tuple(refs)))


def _summaries(kind: str, child: Person | None, day: date) -> tuple[str, ...]:
    """Sentences that fit the consultation and the child's age."""
    if kind != "子育て総合相談" or child is None:
        return SOUDAN_SUMMARIES[kind]
    stage = "学齢" if grade_on(child.birth, day) >= 1 else "乳幼児"
    return SOUDAN_SUMMARIES[kind] + SOUDAN_SUMMARIES[f"{kind}:{stage}"]


def record_random_consultations(town: Town, *, month: Month, rng: random.Random) -> None:
    """Background 相談: families with children, single parents, DV and disability consultations."""
    on = month.last_day
    for household in _random_families(town):
        if rng.random() >= 0.012:
            continue
        children = [m for m in household.members if m.relation in ("子", "孫") and m.age(on) < 18]
        parents = parents_of(children[0], on=on) if children else []
        if not parents:
            continue
        parent = rng.choice(parents)
        kind = (
            "ひとり親相談"
            if len(parents) == 1 and rng.random() < 0.5
            else rng.choices(("子育て総合相談", "女性相談", "障害福祉相談"), (0.85, 0.1, 0.05))[0]
        )
        by_atena = rng.random() < 0.55
        child = rng.choice(children) if rng.random() < 0.6 else None
        record_consultation(
            town,
            rng=rng,
            kind=kind,
            day=random_day(month, rng),
            consulter=parent,
            subject=parent if by_atena else None,
            child=child,
            child_birth=rng.random() < 0.7,
        )


def _random_families(town: Town) -> list[Household]:
    return [
        household
        for household in town.households
        if household.scenario is None
        and any(m.relation in ("子", "孫") and m.birth.year >= 2008 for m in household.members)
    ]


# SC/SSW 相談記録 -------------------------------------------------------------------------------------


def record_ssw_consultation(town: Town, *, child: Person, day: date, rng: random.Random) -> None:
    """An SC/SSW record, typed into the 教育委員会 Excel list."""
    enrolment = child.enrolment_on(day)
    if enrolment is None:
        return
    grade = grade_on(child.birth, day)
    school_name = short_school_name(enrolment.school)
    if town.noise and rng.random() < 0.2:
        school_name = school_name.replace("学校", "")  # 開成小, 文命中
    cells = (
        typed_date(day, rng, noise=town.noise),
        school_name,
        typed_name(child, rng, noise=town.noise),
        grade if grade <= 6 else grade - 6,
        typed_date(child.birth, rng, noise=town.noise),
        rng.choice(("本人", "保護者", "教員")),
        rng.choice(("SC", "SSW")),
        rng.choice(SSW_CATEGORIES),
        rng.choice(SSW_SUMMARIES),
    )
    town.log("ssw_soudan", LogEntry(day, cells, (PersonRef(child.truth_id, "child"),)))


def record_random_ssw_consultations(town: Town, *, month: Month, rng: random.Random) -> None:
    for child in children_at_school(town.persons, month):
        if child.support_plan is not None:
            continue
        chance = 0.3 if child.attendance_profile == "rising_absence" else 0.008
        if rng.random() < chance:
            record_ssw_consultation(town, child=child, day=random_day(month, rng), rng=rng)


# 子育て支援センター ------------------------------------------------------------------------------------


def record_centre_visits(town: Town, *, month: Month, rng: random.Random) -> None:
    """Visits of user families with pre-school children, residents and a few from neighbouring towns."""
    on = month.last_day
    families: list[tuple[Person, Person]] = []
    for household in town.households:
        if not household.support_centre_user:
            continue
        for child in household.members:
            if child.relation in ("子", "孫") and grade_on(child.birth, on) < 1:
                parents = parents_of(child, on=on)
                if parents:
                    mother = next((p for p in parents if p.sex == 2), parents[0])
                    families.append((mother, child))
    families += [(parent, child) for parent, child in town.outsiders if grade_on(child.birth, on) < 1]
    entries = []
    for parent, child in families:
        if child.birth > month.first_day:
            continue
        for _ in range(rng.choices((0, 1, 2, 3), (0.4, 0.3, 0.2, 0.1))[0]):
            day = random_day(month, rng)
            if day < child.birth:
                continue
            kind = rng.choices(("ひろば利用", "相談", "講座", "一時預かり"), (0.6, 0.15, 0.15, 0.1))[0]
            memo = rng.choice(KOSODATE_MEMOS) if kind == "相談" or rng.random() < 0.05 else ""
            child_name = typed_name(child, rng, noise=town.noise)
            if town.noise and rng.random() < 0.1:
                child_name = f"{child.family.common} {to_hiragana(child.given.kana)}"
            cells = (
                day.strftime("%Y/%m/%d"),
                typed_name(parent, rng, noise=town.noise),
                child_name,
                child.birth.strftime("%Y/%m/%d"),
                kind,
                memo,
            )
            refs = (PersonRef(parent.truth_id, "guardian"), PersonRef(child.truth_id, "child"))
            entries.append(LogEntry(day, cells, refs))
    entries.sort(key=lambda entry: entry.cells[0] or "")
    for entry in entries:
        town.log("kosodate_center", entry)


# 虐待通告 ------------------------------------------------------------------------------------------------


def record_abuse_report(town: Town, *, child: Person, received: date, rng: random.Random) -> AbuseReport:
    """A 通告 typed into the standalone list; its 対応状況 moves on over the following weeks."""
    grade = grade_on(child.birth, received)
    sources = ("学校",) if 1 <= grade <= 9 else ("保育所",) if grade <= 0 and child.age(received) >= 1 else ()
    source = rng.choice(sources + ABUSE_SOURCES[2:]) if rng.random() < 0.6 else rng.choice(ABUSE_SOURCES)
    cells = (
        typed_date(received, rng, noise=town.noise),
        typed_name(child, rng, noise=town.noise),
        typed_furigana(child, rng, noise=town.noise),
        "男" if child.sex == 1 else "女",
        typed_date(child.birth, rng, noise=town.noise),
        typed_address(child.address, rng, noise=town.noise),
        source,
        rng.choices(ABUSE_KINDS, (0.3, 0.3, 0.35, 0.05))[0],
    )
    decided = received + timedelta(days=rng.randint(14, 60))
    statuses = [(received, "調査中"), (decided, rng.choice(("助言", "継続指導", "継続指導", "児相送致")))]
    if rng.random() < 0.5:
        statuses.append((decided + timedelta(days=rng.randint(90, 700)), "終結"))
    report = AbuseReport(child, received, cells, statuses)
    town.abuse_reports.append(report)
    return report


def record_past_abuse_reports(town: Town, *, rng: random.Random, today: date) -> None:
    """Reports received since 2018 (平成 and 令和 dates) about some of today's children."""
    first = date(2018, 4, 1)
    for child in town.persons:
        household = child.household
        if household is None or household.scenario is not None or child.age(today) >= 16:
            continue
        if rng.random() < 0.006:
            earliest = max(first, child.birth + timedelta(days=120), child.resident_since)
            if earliest < today - timedelta(days=30):
                received = earliest + timedelta(
                    days=rng.randint(0, (today - timedelta(days=30) - earliest).days)
                )
                record_abuse_report(town, child=child, received=received, rng=rng)
