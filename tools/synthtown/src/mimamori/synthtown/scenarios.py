"""Planted households that make every branch of the ヤングケアラー rule (図表7) occur."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from mimamori.synthtown.consultations import random_day, record_consultation, record_ssw_consultation
from mimamori.synthtown.kinship import parents_of
from mimamori.synthtown.model import Person, Town
from mimamori.synthtown.months import Month, school_year
from mimamori.synthtown.population import Family, PopulationBuilder
from mimamori.synthtown.welfare import (
    certify_fuyou,
    child_service_kind,
    decide_service,
    grant_iryo,
    issue_techo,
    place_in_hoiku,
)


@dataclass(frozen=True)
class CarerScenario:
    """One planted household around a scored school child (the subject)."""

    tag: str
    note: str
    parents: str = "couple"  # couple / mother / father / none
    head: str = "parent"  # parent / grandparent (then the subject is 孫)
    benefits: tuple[str, ...] = ()
    parent_techo: bool = False
    grandparent_techo: bool = False  # a grandparent is not a parent: gives no points
    sibling: str | None = None  # hoiku_2 / hoiku_1 / hoiku_left / service / twin_service / older_service
    tardies: tuple[int, ...] = (0,)  # 遅刻 per month of the run (the last repeats)
    # Contacts: hitorioya_atena / hitorioya_name / kosodate_child / hokenshitsu / ssw / old_soudan
    support: tuple[str, ...] = ()
    relocate: bool = False  # moves to the other elementary school's district mid-way through month 2


SCENARIOS: tuple[CarerScenario, ...] = (
    CarerScenario(
        "yc_single_mother_iryo_no_support",
        "(a)=1 by 医療費助成 only; no support: (d)=10",
        parents="mother",
        benefits=("iryo",),
    ),
    CarerScenario(
        "yc_single_father_fuyou_teishi",
        "(a)=1: 児童扶養手当 資格 有 although 全部停止; 保健室 (d)=1",
        parents="father",
        benefits=("fuyou:全部停止",),
        support=("hokenshitsu",),
    ),
    CarerScenario(
        "yc_single_mother_both_benefits_hoiku_sibling",
        "(a)=1 (both benefits, max 1); (b-1)=1 younger sibling 2号; ひとり親相談 by 宛名番号 (d)=1",
        parents="mother",
        benefits=("iryo", "fuyou:全部支給"),
        sibling="hoiku_2",
        support=("hitorioya_atena",),
    ),
    CarerScenario(
        "yc_single_parent_without_benefit",
        "ひとり親 but neither benefit: (a)=0; not a candidate",
        parents="mother",
    ),
    CarerScenario(
        "yc_parent_techo",
        "(a-2)=1 a parent holds a 手帳; SC/SSW (d)=1",
        parent_techo=True,
        support=("ssw",),
    ),
    CarerScenario(
        "yc_single_mother_techo_iryo",
        "(a)=2: 医療費助成 and the mother's 手帳; (d)=10",
        parents="mother",
        benefits=("iryo",),
        parent_techo=True,
    ),
    CarerScenario(
        "yc_sibling_hoiku_1go",
        "(b-1)=1 younger sibling 1号; 子育て総合相談 naming the child by name (d)=1",
        sibling="hoiku_1",
        support=("kosodate_child",),
    ),
    CarerScenario(
        "yc_sibling_disability_service",
        "(b-2)=2 younger sibling receives 障害児通所支援; (d)=10",
        sibling="service",
    ),
    CarerScenario(
        "yc_twin_service_not_younger",
        "the twin with a service is not younger: (b)=0; not a candidate",
        sibling="twin_service",
    ),
    CarerScenario(
        "yc_older_sibling_service_not_counted",
        "only younger siblings count: not a candidate",
        sibling="older_service",
    ),
    CarerScenario(
        "yc_tardy_every_month",
        "(c)=1 from ≥3 遅刻 each month (+1 where it rose by ≥2); 保健室 (d)=1",
        tardies=(3, 5, 3),
        support=("hokenshitsu",),
    ),
    CarerScenario(
        "yc_tardy_rising",
        "遅刻 0,2,4: month 2 (c)=1 by the increase, month 3 (c)=2; (d)=10",
        tardies=(0, 2, 4),
    ),
    CarerScenario(
        "yc_tardy_school_change",
        "changes elementary school mid-month 2: 遅刻 under both 児童生徒番号 sum to 3; SC/SSW (d)=1",
        tardies=(1, 3, 3),
        support=("ssw",),
        relocate=True,
    ),
    CarerScenario(
        "yc_grandchild_parent_techo",
        "孫 whose parents are 子 and 子の妻; 子の妻 holds a 手帳 (a-2)=1, the grandparent's gives nothing",
        head="grandparent",
        parent_techo=True,
        grandparent_techo=True,
        support=("ssw",),
    ),
    CarerScenario(
        "yc_grandchild_single_parent_iryo",
        "孫 with one parent (子) receiving 医療費助成; ひとり親相談 by name only",
        head="grandparent",
        parents="mother",
        benefits=("iryo",),
        support=("hitorioya_name",),
    ),
    CarerScenario(
        "yc_all_four_supports",
        "(a)=1; ひとり親相談, 子育て総合相談, 保健室 and SC/SSW: (d)=4",
        parents="mother",
        benefits=("fuyou:一部支給",),
        support=("hitorioya_atena", "kosodate_child", "hokenshitsu", "ssw"),
    ),
    CarerScenario(
        "yc_consultation_outside_window",
        "(a)=1; the only 相談 was 14 months before month 1: (d)=10",
        parents="mother",
        benefits=("iryo",),
        support=("old_soudan",),
    ),
    CarerScenario(
        "yc_benefits_ended",
        "児童扶養手当 lost and 医療費助成 ended on day 1 of month 1: (a)=0; (c)=1",
        parents="mother",
        benefits=("fuyou_lost", "iryo_ended"),
        tardies=(3, 3, 3),
    ),
    CarerScenario(
        "yc_benefit_starts_next_month",
        "医療費助成 recorded in month 1, valid from month 2: a candidate from month 2",
        parents="mother",
        benefits=("iryo_next_month",),
    ),
    CarerScenario(
        "yc_sibling_left_hoiku",
        "the younger sibling left the nursery before month 1: not a candidate",
        sibling="hoiku_left",
    ),
    CarerScenario(
        "yc_raised_by_grandparent_fuyou",
        "孫 without a parent in the household: the grandparent's 児童扶養手当 does not count; (c)=1",
        head="grandparent",
        parents="none",
        benefits=("fuyou_grandparent",),
        tardies=(3, 3, 3),
    ),
    CarerScenario(
        "yc_divorce_story",
        "month 2: the father moves out (ひとり親, no benefit yet); "
        "month 3: the mother's 氏名変更 (復氏) and both "
        "benefits; ひとり親相談 by name in month 2",
        tardies=(0, 1, 3),
    ),
)


def plant_scenario(builder: PopulationBuilder, scenario: CarerScenario, *, months: list[Month]) -> Family:
    """Build the scenario's household and its records; the subject child is registered in town.scenarios."""
    rng, town, today, first = builder.rng, builder.town, builder.today, months[0]
    low_grade, high_grade = (3, 5) if scenario.relocate else (3, 6) if scenario.sibling else (2, 8)
    grade = rng.randint(low_grade, high_grade)
    subject_birth = builder.birth_for_grade(grade)
    births = [subject_birth]
    if scenario.sibling in ("hoiku_1", "hoiku_2", "hoiku_left"):
        births.append(builder.birth_for_age(rng.randint(3, 4)))
    elif scenario.sibling == "service":
        births.append(builder.birth_for_age(rng.randint(3, 5)))
    elif scenario.sibling == "twin_service":
        births.append(subject_birth)
    elif scenario.sibling == "older_service":
        births.append(builder.birth_for_grade(grade + 3))
    elif scenario.tag == "yc_divorce_story":
        births.append(builder.birth_for_grade(max(1, grade - 3)))
    single = scenario.parents in ("mother", "father")
    family = builder.family(
        parents=scenario.parents,
        child_births=births,
        head=scenario.head,
        grandparents="both" if scenario.head == "grandparent" else "none",
        economy="low" if single or scenario.parents == "none" else "middle",
    )
    family.household.scenario = scenario.tag
    subject = next(child for child in family.children if child.birth == subject_birth)
    for member in family.household.members:
        member.support_plan = ()
        member.tardy_plan = (0,)
    subject.support_plan = scenario.support
    subject.tardy_plan = scenario.tardies
    town.scenarios.setdefault(scenario.tag, []).append(subject)

    parent = family.parents[0] if family.parents else None
    for benefit in scenario.benefits:
        _grant_benefit(builder, family, benefit, first=first)
    if scenario.parent_techo:
        holder = next((p for p in family.parents if p.sex == 2), family.parents[0])
        issue_techo(town, holder=holder, kind="精神" if holder.sex == 2 else "身体", rng=rng, on=today)
    if scenario.grandparent_techo:
        issue_techo(town, holder=family.grandparents[0], kind="身体", rng=rng, on=today)
    sibling = next((child for child in family.children if child is not subject), None)
    if sibling is not None and scenario.sibling is not None:
        _give_sibling(builder, sibling, scenario.sibling, first=first)
    if "old_soudan" in scenario.support and parent is not None:
        record_consultation(
            town,
            rng=rng,
            kind="ひとり親相談",
            day=random_day(first.shift(-14), rng),
            consulter=parent,
            subject=parent,
            child=subject,
        )
    return family


def _grant_benefit(builder: PopulationBuilder, family: Family, benefit: str, *, first: Month) -> None:
    rng, town, today = builder.rng, builder.town, builder.today
    since = today - timedelta(days=rng.randint(120, 900))
    if benefit == "fuyou_grandparent":
        certify_fuyou(town, parent=family.household.head, certified=since, kubun="全部支給")
        return
    parent = family.parents[0]
    if benefit == "iryo":
        grant_iryo(town, parent=parent, start=since, recorded=since)
    elif benefit.startswith("fuyou:"):
        certify_fuyou(town, parent=parent, certified=since, kubun=benefit.removeprefix("fuyou:"))
    elif benefit == "fuyou_lost":
        lost = first.first_day - timedelta(days=rng.randint(30, 300))
        certify_fuyou(town, parent=parent, certified=lost - timedelta(days=900), kubun="一部支給", lost=lost)
    elif benefit == "iryo_ended":
        grant_iryo(
            town, parent=parent, start=since - timedelta(days=700), recorded=since, end=first.first_day
        )
    elif benefit == "iryo_next_month":
        grant_iryo(town, parent=parent, start=first.shift(1).first_day, recorded=first.day(20))
    else:
        raise ValueError(f"unknown scenario benefit {benefit!r}")


def _give_sibling(builder: PopulationBuilder, sibling: Person, kind: str, *, first: Month) -> None:
    rng, town, today = builder.rng, builder.town, builder.today
    april = date(school_year(today), 4, 1)
    if kind in ("hoiku_1", "hoiku_2"):
        start = max(april - timedelta(days=365), sibling.birth + timedelta(days=365 * 3))
        place_in_hoiku(
            town, child=sibling, kubun="1号" if kind == "hoiku_1" else "2号", start=min(start, april), rng=rng
        )
    elif kind == "hoiku_left":
        end = first.first_day - timedelta(days=rng.randint(20, 200))
        place_in_hoiku(town, child=sibling, kubun="2号", start=end - timedelta(days=400), rng=rng, end=end)
    else:
        start = today - timedelta(days=rng.randint(30, 300))
        decide_service(town, person=sibling, kind=child_service_kind(sibling, on=today), start=start)


def record_scenario_support(town: Town, *, month: Month, rng: random.Random) -> None:
    """The planted subjects' contacts of the month: 相談 and SC/SSW (保健室 comes with the nurse log)."""
    on = month.last_day
    for subjects in town.scenarios.values():
        for child in subjects:
            plan = child.support_plan or ()
            parent = _first_parent(child, on=on)
            if parent is not None and "hitorioya_atena" in plan:
                record_consultation(
                    town,
                    rng=rng,
                    kind="ひとり親相談",
                    day=random_day(month, rng),
                    consulter=parent,
                    subject=parent,
                    child=child,
                )
            if parent is not None and "hitorioya_name" in plan:
                record_consultation(
                    town, rng=rng, kind="ひとり親相談", day=random_day(month, rng), consulter=parent
                )
            if parent is not None and "kosodate_child" in plan:
                record_consultation(
                    town,
                    rng=rng,
                    kind="子育て総合相談",
                    day=random_day(month, rng),
                    consulter=parent,
                    child=child,
                )
            if "ssw" in plan:
                record_ssw_consultation(town, child=child, day=random_day(month, rng), rng=rng)


def _first_parent(child: Person, *, on: date) -> Person | None:
    parents = parents_of(child, on=on)
    return parents[0] if parents else None
