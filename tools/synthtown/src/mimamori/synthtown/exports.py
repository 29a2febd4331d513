"""Rows of each source's monthly file: what that system knows on the month's last day."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from mimamori.synthtown.addresses import registered_address, typed_address
from mimamori.synthtown.kinship import guardian_of
from mimamori.synthtown.model import LogEntry, Person, PersonRef, Row, Town
from mimamori.synthtown.months import Month, grade_on
from mimamori.synthtown.spelling import registered_kana, school_kana, typed_name

Export = Callable[[Town, Month], list[Row]]


def _ymd(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def _atena(person: Person) -> str:
    if person.atena is None:
        raise ValueError(f"{person.truth_id} has no 宛名番号 but a 基幹系 row names them")
    return person.atena


def _ref(person: Person, role: str) -> PersonRef:
    return PersonRef(person.truth_id, role)


def _known(town: Town, source: str, month: Month) -> list[LogEntry]:
    return [entry for entry in town.logs.get(source, ()) if entry.on <= month.last_day]


def _of_month(town: Town, source: str, month: Month) -> list[LogEntry]:
    return [entry for entry in town.logs.get(source, ()) if Month.of(entry.on) == month]


def _log_rows(entries: list[LogEntry]) -> list[Row]:
    return [Row(entry.cells, entry.refs) for entry in entries]


def jumin(town: Town, month: Month) -> list[Row]:
    """Every person ever registered, current (住民) and removed (消除)."""
    rows = []
    for person in town.persons:
        if person.atena is None or person.household is None:
            continue
        cells = (
            person.atena,
            person.household.code,
            person.legal_name,
            registered_kana(person),
            str(person.sex),
            person.recorded_birth,
            person.relation,
            registered_address(person.address),
            _ymd(person.resident_since),
            person.change_reason,
            _ymd(person.change_date),
            "消除" if person.removed else "住民",
            "1" if person.dv_support else "",
        )
        rows.append(Row(cells, (_ref(person, "subject"),)))
    rows.sort(key=lambda row: (str(row.cells[1]), str(row.cells[0])))
    return rows


def jidou_teate(town: Town, month: Month) -> list[Row]:
    rows = []
    for allowance in town.child_allowances:
        if allowance.recorded > month:
            continue
        ended = allowance.end is not None and allowance.end <= month
        cells = (
            _atena(allowance.recipient),
            _atena(allowance.child),
            allowance.start.code,
            allowance.end.code if allowance.end else "",
            "消滅" if ended else "支給中",
        )
        rows.append(Row(cells, (_ref(allowance.recipient, "recipient"), _ref(allowance.child, "child"))))
    return rows


def jidou_fuyou(town: Town, month: Month) -> list[Row]:
    day = month.last_day
    rows = []
    for item in town.fuyou:
        if item.certified > day:
            continue
        qualified = item.lost is None or item.lost > day
        cells = (
            _atena(item.recipient),
            "有" if qualified else "無",
            item.kubun,
            _ymd(item.certified),
            _ymd(item.lost),
            str(item.children),
        )
        rows.append(Row(cells, (_ref(item.recipient, "recipient"),)))
    return rows


def hitorioya_iryo(town: Town, month: Month) -> list[Row]:
    return [
        Row(
            (_atena(item.recipient), _atena(item.subject), _ymd(item.start), _ymd(item.end)),
            (_ref(item.recipient, "recipient"), _ref(item.subject, "subject")),
        )
        for item in town.iryo
        if item.recorded <= month.last_day
    ]


def shogai_techo(town: Town, month: Month) -> list[Row]:
    return [
        Row(
            (_atena(item.holder), item.kind, item.grade, _ymd(item.issued), _ymd(item.expiry)),
            (_ref(item.holder, "subject"),),
        )
        for item in town.techo
        if item.issued <= month.last_day
    ]


def shogai_service(town: Town, month: Month) -> list[Row]:
    return [
        Row(
            (_atena(item.person), item.kind, _ymd(item.start), _ymd(item.end)),
            (_ref(item.person, "subject"),),
        )
        for item in town.services
        if item.recorded <= month.last_day
    ]


def hoiku(town: Town, month: Month) -> list[Row]:
    return [
        Row(
            (
                _atena(item.child),
                item.facility.code,
                item.facility.name,
                item.kubun,
                _ymd(item.start),
                _ymd(item.end),
            ),
            (_ref(item.child, "child"),),
        )
        for item in town.hoiku
        if item.start <= month.last_day
    ]


def kenshin(town: Town, month: Month) -> list[Row]:
    """Checks whose 対象年月 has come; the result appears once the exam has taken place."""
    day = month.last_day
    rows = []
    for check in town.health_checks:
        if check.target > month:
            continue
        done = check.exam_date is not None and check.exam_date <= day
        epds = "" if not done or check.epds is None else str(check.epds)
        cells = (
            _atena(check.person),
            check.kind,
            check.target.code,
            _ymd(check.exam_date) if done else "",
            check.result if done else "",
            epds,
            check.note,
        )
        rows.append(Row(cells, (_ref(check.person, "subject"),)))
    rows.sort(key=lambda row: (str(row.cells[2]), str(row.cells[0]), str(row.cells[1])))
    return rows


def ninshin(town: Town, month: Month) -> list[Row]:
    return _log_rows(sorted(_known(town, "ninshin", month), key=lambda entry: entry.on))


def koumu_meibo(town: Town, month: Month) -> list[Row]:
    """The school roll on the month's last day: 小1–中3 of the town's schools."""
    day = month.last_day
    guardians = {child.truth_id: parent for parent, child in town.outsiders}
    rows = []
    for child in town.persons:
        enrolment = child.enrolment_on(day)
        grade = grade_on(child.birth, day)
        if enrolment is None or not 1 <= grade <= 9:
            continue
        guardian = guardians.get(child.truth_id) or guardian_of(child, on=day)
        # A school types a name once: the same spelling every month while the name stays the same.
        steady = random.Random(f"{child.truth_id}:{child.family.common}:{child.address}")
        cells = (
            enrolment.school.code,
            enrolment.student_no,
            typed_name(child, steady, noise=town.noise),
            school_kana(child),
            "男" if child.sex == 1 else "女",
            child.birth.isoformat(),
            str(grade),
            str(enrolment.class_no),
            typed_address(child.address, steady, noise=town.noise),
            typed_name(guardian, steady, noise=town.noise) if guardian else "",
        )
        refs = [_ref(child, "child")] + ([_ref(guardian, "guardian")] if guardian else [])
        rows.append(Row(cells, tuple(refs)))
    rows.sort(key=lambda row: (str(row.cells[0]), str(row.cells[1])))
    return rows


def koumu_shusseki(town: Town, month: Month) -> list[Row]:
    return _log_rows(_of_month(town, "koumu_shusseki", month))


def koumu_hokenshitsu(town: Town, month: Month) -> list[Row]:
    return _log_rows(_of_month(town, "koumu_hokenshitsu", month))


def soudan(town: Town, month: Month) -> list[Row]:
    return _log_rows(sorted(_known(town, "soudan", month), key=lambda entry: (entry.on, str(entry.cells[0]))))


def ssw_soudan(town: Town, month: Month) -> list[Row]:
    return _log_rows(sorted(_known(town, "ssw_soudan", month), key=lambda entry: entry.on))


def gyakutai_tsukoku(town: Town, month: Month) -> list[Row]:
    day = month.last_day
    reports = sorted((r for r in town.abuse_reports if r.received <= day), key=lambda r: r.received)
    return [Row((*report.cells, report.status_on(day)), (_ref(report.child, "child"),)) for report in reports]


def seiho(town: Town, month: Month) -> list[Row]:
    day = month.last_day
    rows = []
    for case in sorted(town.welfare_cases, key=lambda case: case.start):
        if case.start > day:
            continue
        closed = case.end is not None and case.end <= day
        cells = (
            case.case_no,
            case.head_name,
            case.head_birth,
            case.address,
            case.size,
            case.start_cell,
            case.end_cell if closed else None,
        )
        refs = (
            _ref(case.head, "head"),
            *(_ref(member, "household_member") for member in case.members if member is not case.head),
        )
        rows.append(Row(cells, refs))
    return rows


def shugaku_enjo(town: Town, month: Month) -> list[Row]:
    return _log_rows(
        sorted(_known(town, "shugaku_enjo", month), key=lambda entry: (str(entry.cells[0]), entry.on))
    )


def kosodate_center(town: Town, month: Month) -> list[Row]:
    return _log_rows(_known(town, "kosodate_center", month))


def zeimu(town: Town, month: Month) -> list[Row]:
    """住民税 年度 decided by the month's last day (each 年度 in June)."""
    day = month.last_day
    rows = [
        Row((_atena(tax.person), str(tax.nendo), tax.kubun, str(tax.income)), (_ref(tax.person, "subject"),))
        for tax in town.taxes
        if date(tax.nendo, 6, 1) <= day
    ]
    rows.sort(key=lambda row: (str(row.cells[1]), str(row.cells[0])))
    return rows


EXPORTS: dict[str, Export] = {
    "jumin": jumin,
    "jidou_teate": jidou_teate,
    "jidou_fuyou": jidou_fuyou,
    "hitorioya_iryo": hitorioya_iryo,
    "shogai_techo": shogai_techo,
    "shogai_service": shogai_service,
    "hoiku": hoiku,
    "kenshin": kenshin,
    "ninshin": ninshin,
    "koumu_meibo": koumu_meibo,
    "koumu_shusseki": koumu_shusseki,
    "koumu_hokenshitsu": koumu_hokenshitsu,
    "soudan": soudan,
    "ssw_soudan": ssw_soudan,
    "gyakutai_tsukoku": gyakutai_tsukoku,
    "seiho": seiho,
    "shugaku_enjo": shugaku_enjo,
    "kosodate_center": kosodate_center,
    "zeimu": zeimu,
}
