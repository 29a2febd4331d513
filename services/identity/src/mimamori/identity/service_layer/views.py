"""identity's reads: find persons, read one person. Each read is audited in its own unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from mimamori.identity.adapters.references import StoredReference
from mimamori.identity.adapters.repository import NameEntry, Stay
from mimamori.identity.domain.disclosure import under_support_measure
from mimamori.identity.domain.household import Household
from mimamori.identity.domain.kana import normalise_kana
from mimamori.identity.domain.model import Link, Person, SourceRecord, primary_record
from mimamori.identity.domain.relationships import Member, Relationship, kinship, parents_of
from mimamori.identity.service_layer.unit_of_work import IdentityUnitOfWork
from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext

SERVICE = "identity"
MAX_RESULTS = 50
CASE_SUPPORT = "case_support"  # the one purpose that strictly needs the address of a person under 支援措置


class PersonNotFound(LookupError):
    """No person with this id."""


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """A person found by a search, with the record that speaks for them."""

    person: Person
    record: SourceRecord | None


@dataclass(frozen=True, slots=True)
class HouseholdView:
    """The household of a person's current record: its members and their relationships."""

    household: Household | None
    setai_code: str
    members: list[tuple[SourceRecord, str]]
    relationships: list[Relationship]
    parents: tuple[str, ...]

    @property
    def person_ids(self) -> list[str]:
        """Everyone the view names."""
        return [person_id for _, person_id in self.members]


@dataclass(frozen=True, slots=True)
class PersonView:
    """Everything identity knows of one person."""

    person: Person
    record: SourceRecord | None
    linked: list[tuple[SourceRecord, Link]]
    household: HouseholdView | None
    names: list[NameEntry]
    stays: list[Stay]
    references: list[StoredReference] = field(default_factory=list)
    purpose: str = ""

    @property
    def address_hidden(self) -> bool:
        """Whether the address must be hidden: DV等支援措置, unless the purpose is 個別ケース支援 (case support)."""
        return self.purpose != CASE_SUPPORT and under_support_measure(record for record, _ in self.linked)

    @property
    def person_ids(self) -> list[str]:
        """Everyone the view names: the person and their household's members."""
        return [self.person.id, *(self.household.person_ids if self.household else [])]


async def find_persons(
    *,
    uow: IdentityUnitOfWork,
    context: AccessContext,
    route: str,
    atena_no: str | None = None,
    name_kana: str | None = None,
    birth_date: date | None = None,
) -> list[PersonSummary]:
    """Persons by exact 宛名番号, or by kana (normalised) and birth date; every criterion given must hold."""
    async with uow:
        candidates: list[str] | None = None
        if atena_no is not None:
            person = await uow.persons.by_atena_no(atena_no)
            candidates = [person.id] if person is not None else []
        if name_kana is not None and birth_date is not None:
            found = await uow.records.persons_by_kana_and_birth(
                kana_key=normalise_kana(name_kana), birth_iso=birth_date.isoformat(), limit=MAX_RESULTS
            )
            candidates = found if candidates is None else [p for p in candidates if p in found]
        summaries: list[PersonSummary] = []
        for person_id in candidates or []:
            person = await uow.persons.get(person_id)
            if person is not None:
                summaries.append(PersonSummary(person, primary_record(await uow.records.for_person(person_id))))
        record_access(
            uow,
            access_event(
                recorder=SERVICE,
                context=context,
                action="search",
                method="GET",
                route=route,
                person_ids=[s.person.id for s in summaries],
            ),
        )
        await uow.commit()
    return summaries


async def read_person(
    person_id: str, *, uow: IdentityUnitOfWork, context: AccessContext, route: str, today: date
) -> PersonView:
    """One person: records by source, household and relationships, name and household history."""
    async with uow:
        person = await uow.persons.get(person_id)
        if person is None:
            raise PersonNotFound(person_id)
        linked = await uow.records.for_person(person_id)
        record = primary_record(linked)
        household = await _household_view(person_id, record, uow=uow, today=today)
        view = PersonView(
            person=person,
            record=record,
            linked=linked,
            household=household,
            names=await uow.names.for_person(person_id),
            stays=await uow.households.stays_of(person_id),
            references=await uow.references.linked_to(person_id),
            purpose=context.purpose,
        )
        record_access(
            uow,
            access_event(
                recorder=SERVICE,
                context=context,
                action="read",
                method="GET",
                route=route,
                person_ids=view.person_ids,
            ),
        )
        await uow.commit()
    return view


async def _household_view(
    person_id: str, record: SourceRecord | None, *, uow: IdentityUnitOfWork, today: date
) -> HouseholdView | None:
    if record is None or not record.values.setai_code:
        return None
    code = record.values.setai_code
    # One entry per person, should a person ever hold two records in one household.
    members = list({pid: (r, pid) for r, pid in await uow.records.in_household(code)}.values())
    related = [Member(pid, r.values.zokugara, r.values.birth_date, r.resident) for r, pid in members]
    return HouseholdView(
        household=await uow.households.by_setai_code(code),
        setai_code=code,
        members=members,
        relationships=kinship(related),
        parents=parents_of(person_id, related, on=today),
    )
