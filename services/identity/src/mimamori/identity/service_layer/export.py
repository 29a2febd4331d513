"""The link export: one line per person reference in a source record, with the person it links to."""

from __future__ import annotations

from dataclasses import dataclass

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
        atena = select(persons.c.id, persons.c.atena_no).subquery()
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
            atena.c.atena_no,
        ).select_from(
            rows.join(records, records.c.record_key == rows.c.record_key)
            .outerjoin(links, links.c.record_key == records.c.record_key)
            .outerjoin(atena, atena.c.id == links.c.person_id)
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
                atena.c.atena_no,
            )
            .select_from(
                records.outerjoin(links, links.c.record_key == records.c.record_key).outerjoin(
                    atena, atena.c.id == links.c.person_id
                )
            )
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
            atena.c.atena_no,
        ).select_from(
            rows.join(refs, refs.c.record_key == rows.c.record_key).outerjoin(atena, atena.c.id == refs.c.person_id)
        )
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
                atena.c.atena_no,
            )
            .select_from(refs.outerjoin(atena, atena.c.id == refs.c.person_id))
            .where(refs.c.present.is_(True), unindexed_refs)
        )
        every = union_all(jumin, jumin_unindexed, references, references_unindexed).subquery()
        query = (
            select(every)
            .order_by(every.c.part, every.c.record_key, every.c.file_name, every.c.row, every.c.idx)
            .offset(offset)
            .limit(limit)
        )
        for r in await uow.session.execute(query):
            lines.append(
                LinkLine(
                    source=r.source,
                    file=r.file_name,
                    row=r.row,
                    role=r.role,
                    person_id=r.person_id or "",
                    atena_no=(r.atena_no or "") if r.person_id else "",
                    grade=r.grade or MatchGrade.NO_MATCH.value,
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
