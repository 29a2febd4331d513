"""The link export: one line per person reference in a source record, with the person it links to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, literal, select, union_all

from mimamori.identity.domain.model import MatchGrade
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext

COLUMNS = ("source", "file", "row", "role", "person_id", "atena_no", "grade")


@dataclass(frozen=True, slots=True)
class LinkLine:
    """One line of the export."""

    source: str
    file: str
    row: int
    role: str
    person_id: str
    atena_no: str
    grade: str

    def as_row(self) -> list[str]:
        """The line's cells in COLUMNS order."""
        return [self.source, self.file, str(self.row), self.role, self.person_id, self.atena_no, self.grade]


async def link_lines(
    *, uow: IdentityUnitOfWork, offset: int, limit: int, context: AccessContext | None = None, route: str = ""
) -> list[LinkLine]:
    """A page of the export: 住民記録 rows first, then the other sources' references, in key order; one line per
    delivered row of a record (every month's file) and reference."""
    t = uow.tables
    records, links, persons, refs = t["source_records"], t["record_links"], t["persons"], t["source_references"]
    rows = t["delivery_rows"]
    lines: list[LinkLine] = []
    async with uow:
        unindexed = ~exists().where(rows.c.record_key == records.c.record_key)
        unindexed_refs = ~exists().where(rows.c.record_key == refs.c.record_key)
        # Every delivered row of every file (each load run's row index), a record without indexed rows (delivered
        # before the index existed) at the file and row that last changed it.
        jumin = select(
            literal(0).label("part"),
            records.c.record_key,
            literal(0).label("idx"),
            records.c.source,
            rows.c.file_name,
            rows.c.row,
            literal("subject").label("role"),
            links.c.person_id,
            links.c.grade,
            literal("").label("ref_month"),
            literal(None).label("candidate_id"),
        ).select_from(
            rows.join(records, records.c.record_key == rows.c.record_key).outerjoin(
                links, links.c.record_key == records.c.record_key
            )
        )
        jumin_unindexed = (
            select(
                literal(0).label("part"),
                records.c.record_key,
                literal(0).label("idx"),
                records.c.source,
                records.c.file_name,
                records.c.row,
                literal("subject").label("role"),
                links.c.person_id,
                links.c.grade,
                literal("").label("ref_month"),
                literal(None).label("candidate_id"),
            )
            .select_from(records.outerjoin(links, links.c.record_key == records.c.record_key))
            .where(records.c.present.is_(True), unindexed)
        )
        references = select(
            literal(1).label("part"),
            refs.c.record_key,
            refs.c.idx,
            refs.c.source,
            rows.c.file_name,
            rows.c.row,
            refs.c.role,
            refs.c.person_id,
            refs.c.grade,
            refs.c.month.label("ref_month"),
            refs.c.candidate_id,
        ).select_from(rows.join(refs, refs.c.record_key == rows.c.record_key))
        references_unindexed = (
            select(
                literal(1).label("part"),
                refs.c.record_key,
                refs.c.idx,
                refs.c.source,
                refs.c.file_name,
                refs.c.row,
                refs.c.role,
                refs.c.person_id,
                refs.c.grade,
                refs.c.month.label("ref_month"),
                refs.c.candidate_id,
            )
            .select_from(refs)
            .where(refs.c.present.is_(True), unindexed_refs)
        )
        every = union_all(jumin, jumin_unindexed, references, references_unindexed).subquery()
        query = (
            select(every)
            .order_by(every.c.part, every.c.record_key, every.c.file_name, every.c.row, every.c.idx)
            .offset(offset)
            .limit(limit)
        )
        found = list(await uow.session.execute(query))
        # A row of an earlier month whose record a later delivery changed (a roll entry's guardian after a divorce)
        # names whom that month's version named; a probable answer shows the person proposed for review.
        earlier = await uow.references.history(
            r.record_key for r in found if r.ref_month and _month_of(r.file_name) < r.ref_month
        )
        answers = [_answer_at(r, earlier) for r in found]
        wanted = sorted({pid for _, pid, _ in answers if pid})
        atena_of: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query_atena = select(persons.c.id, persons.c.atena_no).where(persons.c.id.in_(chunk))
            atena_of.update({row.id: row.atena_no or "" for row in await uow.session.execute(query_atena)})
        for r, (role, pid, grade) in zip(found, answers, strict=True):
            lines.append(
                LinkLine(
                    source=r.source,
                    file=r.file_name,
                    row=r.row,
                    role=role,
                    person_id=pid,
                    atena_no=atena_of.get(pid, ""),
                    grade=grade,
                )
            )
        if context is not None:
            record_access(
                uow,
                access_event(
                    recorder="identity",
                    context=context,
                    action="export",
                    method="GET",
                    route=route,
                    person_ids=sorted({line.person_id for line in lines if line.person_id}),
                ),
            )
            await uow.commit()
    return lines


_MONTH = re.compile(r"_(\d{6})\.[A-Za-z0-9]+$")


def _month_of(file_name: str) -> str:
    """The month a delivered file's name gives (`<source>_<YYYYMM>.<ext>`), '' when it gives none."""
    found = _MONTH.search(file_name)
    return found.group(1) if found else ""


def _answer_at(row: Any, earlier: dict[tuple[str, int], list[dict[str, Any]]]) -> tuple[str, str, str]:
    """Role, person and grade of one line: the version of the reference the row's month delivered."""
    role, person_id, candidate_id, grade = row.role, row.person_id, row.candidate_id, row.grade
    month = _month_of(row.file_name)
    if row.ref_month and month and month < row.ref_month:
        for version in earlier.get((row.record_key, row.idx), []):
            if version["month"] <= month < version["until_month"]:
                role, person_id, candidate_id, grade = (
                    version["role"],
                    version["person_id"],
                    version["candidate_id"],
                    version["grade"],
                )
                break
    grade = grade or MatchGrade.NO_MATCH.value
    shown = person_id or (candidate_id if grade == MatchGrade.PROBABLE.value else None)
    return role, shown or "", grade
