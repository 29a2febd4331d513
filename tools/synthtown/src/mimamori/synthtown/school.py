"""Schools: enrolment by 通学区域 and grade, attendance marks and nurse-room visits."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from mimamori.synthtown.model import Enrolment, LogEntry, Person, PersonRef, School, Town
from mimamori.synthtown.months import Month, grade_on, school_days, school_year
from mimamori.synthtown.vocabulary import (
    ATTENDANCE_REASONS,
    DISTRICTS,
    DISTRICTS_NORTH,
    DISTRICTS_SOUTH,
    NURSE_COMPLAINTS,
    NURSE_RESPONSES,
)

_PROFILES: tuple[tuple[str, float], ...] = (
    ("steady", 0.90),
    ("tardy", 0.03),
    ("rising_tardy", 0.03),
    ("rising_absence", 0.03),
    ("frequent_nurse", 0.01),
)


def town_schools(municipality_code: str) -> tuple[School, ...]:
    """The town's two elementary schools and one junior high school."""
    prefix = municipality_code[:5]
    return (
        School(f"B1{prefix}00017", "開成町立開成小学校", "小", DISTRICTS_NORTH),
        School(f"B1{prefix}00025", "開成町立開成南小学校", "小", DISTRICTS_SOUTH),
        School(f"C1{prefix}00013", "開成町立文命中学校", "中", DISTRICTS),
    )


def short_school_name(school: School) -> str:
    """The name as staff type it in the Excel lists: 開成小学校."""
    return school.name.removeprefix("開成町立")


class SchoolOffice:
    """Keeps every child's enrolment in line with their grade and address."""

    def __init__(self, *, town: Town, rng: random.Random) -> None:
        self.town = town
        self.rng = rng
        self._numbers: dict[tuple[str, int], int] = defaultdict(int)

    def school_for(self, person: Person, day: date) -> School | None:
        """The school a resident child attends on `day`, or None outside 小1–中3."""
        grade = grade_on(person.birth, day)
        if not person.is_resident or not 1 <= grade <= 9:
            return None
        level = "小" if grade <= 6 else "中"
        district = person.address.district
        return next(s for s in self.town.schools if s.level == level and district in s.districts)

    def enrol(self, person: Person, school: School, *, start: date) -> Enrolment:
        """Give the child a new 児童生徒番号 at `school` from `start`."""
        entry_year = school_year(start)
        self._numbers[(school.code, entry_year)] += 1
        classes = 2 if school.level == "小" else 3
        enrolment = Enrolment(
            school=school,
            student_no=f"{entry_year}{self._numbers[(school.code, entry_year)]:03d}",
            class_no=self.rng.randint(1, classes),
            start=start,
        )
        person.enrolments.append(enrolment)
        if person.attendance_profile == "steady" and len(person.enrolments) == 1:
            names, weights = zip(*_PROFILES, strict=True)
            person.attendance_profile = self.rng.choices(names, weights)[0]
        return enrolment

    def update(self, person: Person, day: date) -> None:
        """Close or open enrolments so that the child is at the right school from `day` on."""
        current = next((e for e in person.enrolments if e.end is None), None)
        if person.atena is None:  # 区域外就学: the school keeps a non-resident until they finish it
            grade = grade_on(person.birth, day)
            if current is not None and not (
                1 <= grade <= 6 if current.school.level == "小" else 7 <= grade <= 9
            ):
                current.end = day - timedelta(days=1)
            return
        wanted = self.school_for(person, day)
        if current is not None and (wanted is None or current.school != wanted):
            current.end = day - timedelta(days=1)
        if wanted is not None and (current is None or current.school != wanted):
            self.enrol(person, wanted, start=day)

    def initial_enrolment(self, person: Person, today: date) -> None:
        """Enrol a child as if they had been at today's school since they entered it."""
        school = self.school_for(person, today)
        if school is None:
            return
        grade = grade_on(person.birth, today)
        years_at_school = grade - 1 if school.level == "小" else grade - 7
        entered = date(school_year(today) - years_at_school, 4, 6)
        start = max(entered, person.resident_since)
        self.enrol(person, school, start=start)


def children_at_school(persons: list[Person], month: Month) -> list[Person]:
    """Children with an enrolment that overlaps `month`."""
    first, last = month.first_day, month.last_day
    return [
        person
        for person in persons
        if any(e.start <= last and (e.end is None or e.end >= first) for e in person.enrolments)
    ]


def record_attendance(*, town: Town, month: Month, index: int, rng: random.Random) -> None:
    """出欠: one mark per child and day with a non-present mark, for every child at school in `month`."""
    days = school_days(month)
    entries: list[LogEntry] = []
    for child in children_at_school(town.persons, month):
        child_days = [day for day in days if child.enrolment_on(day) is not None]
        if not child_days:
            continue
        for kind, day in _marks(child, child_days, index=index, rng=rng):
            enrolment = child.enrolment_on(day)
            assert enrolment is not None
            reason = rng.choice(ATTENDANCE_REASONS[kind])
            cells = (enrolment.school.code, enrolment.student_no, day.isoformat(), kind, reason)
            entries.append(LogEntry(day, cells, (PersonRef(child.truth_id, "child"),)))
    entries.sort(key=lambda entry: (entry.on, entry.cells[0], entry.cells[1], entry.cells[3]))
    for entry in entries:
        town.log("koumu_shusseki", entry)
        if town.noise and rng.random() < 0.01:
            town.log("koumu_shusseki", entry)  # the same mark exported twice


def _marks(child: Person, days: list[date], *, index: int, rng: random.Random) -> list[tuple[str, date]]:
    profile = child.attendance_profile
    absences = rng.choices((0, 1, 2, 3), (0.6, 0.25, 0.1, 0.05))[0]
    if profile == "rising_absence":
        absences = (1, 4, 8, 12)[min(index, 3)]
    if child.tardy_plan is not None:
        tardies = child.tardy_plan[min(index, len(child.tardy_plan) - 1)]
    elif profile == "tardy":
        tardies = rng.randint(3, 6)
    elif profile == "rising_tardy":
        tardies = min(2 * index, 8)
    else:
        tardies = rng.choices((0, 1, 2, 3), (0.82, 0.12, 0.05, 0.01))[0]
    early = rng.choices((0, 1), (0.9, 0.1))[0]

    free = list(days)
    marks: list[tuple[str, date]] = []
    if rng.random() < 0.015 and len(free) >= 5:
        first = rng.randrange(len(free) - 4)
        stop = free[first : first + rng.randint(3, 5)]
        marks += [("出席停止", day) for day in stop]
        free = [day for day in free if day not in stop]
    if rng.random() < 0.003 and free:
        day = rng.choice(free)
        marks.append(("忌引", day))
        free.remove(day)
    for day in rng.sample(free, min(absences, len(free))):
        marks.append(("欠席", day))
        free.remove(day)
    # Spread tardies over every enrolment of the month, so a child who changed school has marks at both.
    by_enrolment: dict[str, list[date]] = defaultdict(list)
    for day in free:
        enrolment = child.enrolment_on(day)
        by_enrolment[enrolment.school.code + enrolment.student_no if enrolment else ""].append(day)
    late_days: list[date] = [rng.choice(group) for group in by_enrolment.values()][:tardies]
    rest = [day for day in free if day not in late_days]
    late_days += rng.sample(rest, min(tardies - len(late_days), len(rest)))
    marks += [("遅刻", day) for day in late_days]
    marks += [("早退", day) for day in rng.sample(free, min(early, len(free)))]
    return marks


def record_nurse_visits(*, town: Town, month: Month, rng: random.Random) -> None:
    """保健室来室: random visits, frequent for some children, planned for scenario children."""
    days = school_days(month)
    entries: list[LogEntry] = []
    for child in children_at_school(town.persons, month):
        child_days = [day for day in days if child.enrolment_on(day) is not None]
        if not child_days:
            continue
        if child.support_plan is not None:
            visits = rng.randint(1, 2) if "hokenshitsu" in child.support_plan else 0
        elif child.attendance_profile in ("rising_absence", "frequent_nurse"):
            visits = rng.randint(2, 4)
        else:
            visits = rng.choices((0, 1, 2), (0.94, 0.05, 0.01))[0]
        for day in sorted(rng.sample(child_days, min(visits, len(child_days)))):
            enrolment = child.enrolment_on(day)
            assert enrolment is not None
            minutes = rng.randrange(8 * 60 + 40, 15 * 60 + 40, 5)
            stamp = f"{day.isoformat()} {minutes // 60:02d}:{minutes % 60:02d}"
            cells = (
                enrolment.school.code,
                enrolment.student_no,
                stamp,
                rng.choice(NURSE_COMPLAINTS),
                rng.choice(NURSE_RESPONSES),
            )
            entries.append(LogEntry(day, cells, (PersonRef(child.truth_id, "child"),)))
    entries.sort(key=lambda entry: (entry.cells[2], entry.cells[0], entry.cells[1]))
    for entry in entries:
        town.log("koumu_hokenshitsu", entry)
