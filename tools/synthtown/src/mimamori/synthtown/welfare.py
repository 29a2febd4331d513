"""Benefits, 手帳, services, nursery places, taxes, 生活保護 and 就学援助 of the town's households."""

from __future__ import annotations

import random
from datetime import date, timedelta

from mimamori.synthtown.addresses import typed_address
from mimamori.synthtown.kinship import guardian_of, minor_children, parents_of
from mimamori.synthtown.model import (
    ChildAllowance,
    Facility,
    FuyouQualification,
    HitorioyaIryo,
    HoikuEnrolment,
    Household,
    LogEntry,
    Person,
    PersonRef,
    ServiceDecision,
    TaxAssessment,
    Techo,
    Town,
    WelfareCase,
)
from mimamori.synthtown.months import Month, grade_on, school_year
from mimamori.synthtown.school import short_school_name
from mimamori.synthtown.spelling import typed_date, typed_name
from mimamori.synthtown.vocabulary import FACILITIES

TECHO_GRADES: dict[str, tuple[str, ...]] = {
    "身体": ("1級", "2級", "3級", "4級", "5級", "6級"),
    "療育": ("A1", "A2", "B1", "B2"),
    "精神": ("1級", "2級", "3級"),
}
CHILD_SERVICES = ("児童発達支援", "放課後等デイサービス", "保育所等訪問支援")
ADULT_SERVICES = ("居宅介護", "短期入所", "計画相談支援", "他")


def town_facilities(municipality_code: str) -> tuple[Facility, ...]:
    return tuple(
        Facility(f"{municipality_code}{number:02d}", name, kubun) for number, name, kubun in FACILITIES
    )


def tax_year_decided(day: date) -> int:
    """The latest 住民税 年度 decided by `day` (each 年度 is decided in June)."""
    return day.year if day.month >= 6 else day.year - 1


# 児童手当 -------------------------------------------------------------------------------------------


def grant_child_allowance(town: Town, *, child: Person, recipient: Person, start: Month) -> ChildAllowance:
    allowance = ChildAllowance(recipient, child, start, start.shift(-1))
    town.child_allowances.append(allowance)
    return allowance


def grant_child_allowances(town: Town, household: Household, *, on: date) -> None:
    """児童手当 for every child under 18, paid to a parent (or to the head who raises the child)."""
    for child in [m for m in household.members if m.relation in ("子", "孫") and m.age(on) < 18]:
        recipient = guardian_of(child, on=on)
        if recipient is None:
            continue
        start = max(Month.of(child.birth), Month.of(child.resident_since)).shift(1)
        grant_child_allowance(town, child=child, recipient=recipient, start=start)


def end_child_allowances(town: Town, person: Person, *, month: Month) -> None:
    """Stop 児童手当 rows where `person` is the recipient or the child."""
    for allowance in town.child_allowances:
        if allowance.end is None and person in (allowance.recipient, allowance.child):
            allowance.end = month


# ひとり親 -------------------------------------------------------------------------------------------


def certify_fuyou(
    town: Town, *, parent: Person, certified: date, kubun: str, lost: date | None = None
) -> FuyouQualification:
    """児童扶養手当 受給資格 for a parent."""
    children = len(minor_children(parent, on=certified)) or 1
    qualification = FuyouQualification(parent, certified, kubun, children, lost)
    town.fuyou.append(qualification)
    return qualification


def grant_iryo(town: Town, *, parent: Person, start: date, recorded: date, end: date | None = None) -> None:
    """ひとり親家庭等医療費助成 for the parent and each of their children."""
    for subject in [parent, *minor_children(parent, on=start)]:
        town.iryo.append(HitorioyaIryo(parent, subject, start, recorded, end))


def grant_single_parent_support(town: Town, household: Household, *, rng: random.Random, on: date) -> None:
    """Random 児童扶養手当 and 医療費助成 for a single parent; past qualifications for some couples."""
    children = [m for m in household.members if m.relation in ("子", "孫") and m.age(on) < 18]
    if not children:
        return
    parents = parents_of(children[0], on=on)
    if len(parents) == 1:
        parent = parents[0]
        low = household.economy in ("low", "seiho")
        since = max(parent.resident_since, children[-1].birth) + timedelta(days=rng.randint(30, 400))
        since = min(since, on - timedelta(days=20))
        if rng.random() < (0.85 if low else 0.45):
            weights = (0.6, 0.35, 0.05) if low else (0.1, 0.6, 0.3)
            kubun = rng.choices(("全部支給", "一部支給", "全部停止"), weights)[0]
            certify_fuyou(town, parent=parent, certified=since, kubun=kubun)
        if rng.random() < (0.8 if low else 0.4):
            grant_iryo(town, parent=parent, start=since, recorded=since)
    elif len(parents) == 2 and rng.random() < 0.03:
        mother = next((p for p in parents if p.sex == 2), parents[0])
        certified = on - timedelta(days=rng.randint(900, 2500))
        lost = certified + timedelta(days=rng.randint(200, 800))  # 婚姻: 資格 ends
        certify_fuyou(town, parent=mother, certified=certified, kubun="一部支給", lost=lost)


# 障害者手帳 and services ------------------------------------------------------------------------------


def issue_techo(
    town: Town, *, holder: Person, kind: str, rng: random.Random, on: date, grade: str | None = None
) -> Techo:
    """A 手帳 valid on `on` (身体 has no 有効期限; 療育 and 精神 do)."""
    earliest = max(holder.birth + timedelta(days=730), on - timedelta(days=15 * 365))
    issued = earliest + timedelta(days=rng.randint(0, max(0, (on - earliest).days - 30)))
    expiry = None
    if kind != "身体":
        expiry = on + timedelta(days=rng.randint(60, 700))
        issued = max(issued, expiry - timedelta(days=730 if kind == "精神" else 1400))
    techo = Techo(holder, kind, grade or rng.choice(TECHO_GRADES[kind]), issued, expiry)
    town.techo.append(techo)
    return techo


def decide_service(
    town: Town, *, person: Person, kind: str, start: date, length_days: int = 365
) -> ServiceDecision:
    """A 支給決定 from `start` for a year (the end is the last valid day)."""
    decision = ServiceDecision(
        person, kind, start, start + timedelta(days=length_days - 1), start - timedelta(days=14)
    )
    town.services.append(decision)
    return decision


def child_service_kind(child: Person, *, on: date) -> str:
    return "児童発達支援" if grade_on(child.birth, on) < 1 else "放課後等デイサービス"


def grant_disability_records(town: Town, person: Person, *, rng: random.Random, on: date) -> None:
    """Random 手帳 and 支給決定, by age."""
    age = person.age(on)
    kind = None
    if age < 18 and age >= 2:
        kind = "療育" if rng.random() < 0.015 else None
    elif age >= 65:
        kind = "身体" if rng.random() < 0.07 else None
    elif age >= 18:
        kind = rng.choices(("身体", "精神", "療育", None), (0.02, 0.015, 0.004, 0.961))[0]
    if kind is not None:
        issue_techo(town, holder=person, kind=kind, rng=rng, on=on)
    start = on - timedelta(days=rng.randint(0, 330))
    if 2 <= age < 18 and (kind == "療育" or rng.random() < 0.02):
        decide_service(town, person=person, kind=child_service_kind(person, on=on), start=start)
        if rng.random() < 0.2:
            decide_service(town, person=person, kind="保育所等訪問支援", start=start)
    elif age >= 18 and kind is not None and rng.random() < 0.3:
        length = 365 if rng.random() < 0.9 else rng.randint(30, 200)  # some end during the months
        decide_service(town, person=person, kind=rng.choice(ADULT_SERVICES), start=start, length_days=length)


# 保育所等 ----------------------------------------------------------------------------------------------


def place_in_hoiku(
    town: Town, *, child: Person, kubun: str, start: date, rng: random.Random, end: date | None = None
) -> HoikuEnrolment:
    facility = rng.choice([f for f in town.facilities if kubun in f.kubun])
    enrolment = HoikuEnrolment(child, facility, kubun, start, end)
    town.hoiku.append(enrolment)
    return enrolment


def grant_hoiku(town: Town, child: Person, *, rng: random.Random, on: date) -> None:
    """A nursery place for a pre-school child; past places (退所 before school) for 小1–小2."""
    grade = grade_on(child.birth, on)
    year_start = date(school_year(on), 4, 1)
    if grade in (1, 2) and rng.random() < 0.4:
        left = date(school_year(on) - grade + 1, 3, 31)
        past = rng.choice(("1号", "2号"))
        place_in_hoiku(town, child=child, kubun=past, start=left - timedelta(days=3 * 365), rng=rng, end=left)
        return
    if grade > 0 or child.birth > on - timedelta(days=57):
        return
    age_in_april = grade + 6 - 1  # 0歳児 … 5歳児 (age on 1 April of the school year)
    kubun: str | None
    if age_in_april <= 2:
        kubun = "3号" if rng.random() < 0.45 else None
    else:
        kubun = rng.choices(("2号", "1号", None), (0.55, 0.3, 0.15))[0]
    if kubun is None:
        return
    earliest = max(child.birth + timedelta(days=57), child.resident_since)
    start = max(earliest, year_start - timedelta(days=365 * rng.randint(0, max(0, age_in_april - 1))))
    end = date(school_year(on) + 1, 3, 31) if age_in_april == 5 else None
    place_in_hoiku(town, child=child, kubun=kubun, start=min(start, on), rng=rng, end=end)


def end_hoiku(town: Town, child: Person, *, day: date) -> None:
    for enrolment in town.hoiku:
        if enrolment.child is child and (enrolment.end is None or enrolment.end > day):
            enrolment.end = day


# 住民税 ------------------------------------------------------------------------------------------------


def assess_taxes(town: Town, household: Household, *, rng: random.Random, nendos: range, on: date) -> None:
    """課税区分 of every adult for each 年度: from the household's economy and who earns."""
    earners = {parents[0].truth_id for m in household.members if (parents := parents_of(m, on=on))}
    earners.add(household.head.truth_id)
    for person in household.members:
        age = person.age(on)
        if age < 18:
            continue
        earner = person.truth_id in earners
        kubun, income = _tax_class(household.economy, earner=earner, age=age, rng=rng)
        for nendo in nendos:
            drift = rng.uniform(0.9, 1.1) if income else 0
            town.taxes.append(TaxAssessment(person, nendo, kubun, int(income * drift) // 1000 * 1000))


def _tax_class(economy: str, *, earner: bool, age: int, rng: random.Random) -> tuple[str, int]:
    if rng.random() < 0.02:
        return "未申告", 0
    if economy == "seiho":
        return "非課税", rng.randint(0, 600_000)
    if age >= 65 and not earner:
        return (
            ("非課税", rng.randint(0, 1_000_000))
            if rng.random() < 0.5
            else ("課税", rng.randint(1_500_000, 3_000_000))
        )
    if not earner:
        return rng.choices(
            (
                ("非課税", 0),
                ("均等割のみ", rng.randint(1_010_000, 1_340_000)),
                ("課税", rng.randint(1_500_000, 3_000_000)),
            ),
            (0.4, 0.2, 0.4),
        )[0]
    if economy == "low":
        if rng.random() < 0.6:
            return "非課税", rng.randint(300_000, 1_000_000)
        return "均等割のみ", rng.randint(1_010_000, 1_340_000)
    if economy == "high":
        return "課税", rng.randint(6_000_000, 12_000_000)
    return "課税", rng.randint(2_500_000, 5_500_000)


# 生活保護 ----------------------------------------------------------------------------------------------


def open_welfare_case(
    town: Town, household: Household, *, rng: random.Random, start: date, end: date | None = None
) -> WelfareCase:
    """A 生活保護 case, typed into the standalone list when it opened."""
    noise = town.noise
    head = household.head
    number = sum(1 for case in town.welfare_cases if case.start.year == start.year) + 1
    case = WelfareCase(
        case_no=f"{start.year}-{number:03d}",
        head=head,
        members=tuple(household.members),
        head_name=typed_name(head, rng, noise=noise),
        head_birth=typed_date(head.birth, rng, noise=noise),
        address=typed_address(household.address, rng, noise=noise),
        size=len(household.members),
        start=start,
        start_cell=typed_date(start, rng, noise=noise),
        end=end,
        end_cell=typed_date(end, rng, noise=noise) if end else None,
    )
    town.welfare_cases.append(case)
    return case


# 就学援助 ----------------------------------------------------------------------------------------------


def certify_school_aid(
    town: Town, household: Household, *, rng: random.Random, nendos: range, on: date
) -> None:
    """就学援助: 要保護 for 生活保護 households, 準要保護 for many low-income ones, per 年度."""
    if household.economy not in ("seiho", "low"):
        return
    kubun = "要保護" if household.economy == "seiho" else "準要保護"
    for nendo in nendos:
        april = date(nendo, 4, 10)
        for child in household.members:
            grade = grade_on(child.birth, april)
            if child.relation not in ("子", "孫") or not 1 <= grade <= 9:
                continue
            if kubun == "準要保護" and rng.random() < 0.3:
                continue  # not applied for this year: a push-type support candidate
            guardian = guardian_of(child, on=on)
            certified = april + timedelta(days=rng.randint(0, 50))
            level = "小" if grade <= 6 else "中"
            school = next(
                s
                for s in town.schools
                if s.level == level and (level == "中" or child.address.district in s.districts)
            )
            cells = (
                nendo,
                short_school_name(school),
                typed_name(child, rng, noise=town.noise),
                typed_date(child.birth, rng, noise=town.noise),
                typed_name(guardian, rng, noise=town.noise) if guardian else "",
                kubun,
                typed_date(certified, rng, noise=town.noise),
            )
            refs = [PersonRef(child.truth_id, "child")]
            if guardian:
                refs.append(PersonRef(guardian.truth_id, "guardian"))
            town.log("shugaku_enjo", LogEntry(certified, cells, tuple(refs)))


def school_aid_years(first: Month, last: Month) -> range:
    """年度 whose 就学援助 the months can show: the year before the first month to the last month's."""
    return range(school_year(first.first_day) - 1, school_year(last.last_day) + 1)


def tax_years(first: Month, last: Month) -> range:
    """年度 of 住民税 that the months can show: the one before the first month's latest to the last's."""
    return range(tax_year_decided(first.last_day) - 1, tax_year_decided(last.last_day) + 1)
