"""risk's reads of the child view; each read is audited in the same unit of work."""

from __future__ import annotations

from dataclasses import dataclass

from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext
from mimamori.risk.domain.household import Child
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

SERVICE = "risk"


class ChildNotFound(LookupError):
    """No child with this person id as of the month (unknown, not a 子/孫, too old, not resident)."""


class HouseholdNotFound(LookupError):
    """No household with this id was announced."""


@dataclass(frozen=True, slots=True)
class HouseholdSummary:
    """A household as of a month: its size and its children."""

    household_id: str
    version: int
    member_count: int
    resident_count: int
    children: list[Child]


def _touched(children: list[Child]) -> set[str]:
    return {pid for c in children for pid in (c.person_id, *c.parent_ids, *c.younger_sibling_ids)}


async def read_child(
    person_id: str, *, month: AssessmentMonth, uow: RiskUnitOfWork, context: AccessContext, route: str
) -> Child:
    """The child view of a person as of the month's last day; the read (found or not) is audited."""
    async with uow:
        households = await uow.households.containing(person_id, month=str(month))
        # The household announced for the latest month (then last) that lists the person is theirs that month.
        child = households[0].child(person_id, as_of=month.last_day) if households else None
        record_access(
            uow,
            access_event(
                recorder=SERVICE,
                context=context,
                action="read",
                method="GET",
                route=route,
                person_ids=_touched([child]) if child else [person_id],
                status_code=200 if child else 404,
            ),
        )
        await uow.commit()
    if child is None:
        raise ChildNotFound(person_id)
    return child


async def read_household_summary(
    household_id: str, *, month: AssessmentMonth, uow: RiskUnitOfWork, context: AccessContext, route: str
) -> HouseholdSummary:
    """A household's size and children as of the month's last day; the read is audited."""
    async with uow:
        household = await uow.households.get(household_id, month=str(month))
        children = household.children(as_of=month.last_day) if household else []
        record_access(
            uow,
            access_event(
                recorder=SERVICE,
                context=context,
                action="read",
                method="GET",
                route=route,
                person_ids=_touched(children),
                status_code=200 if household else 404,
            ),
        )
        await uow.commit()
    if household is None:
        raise HouseholdNotFound(household_id)
    return HouseholdSummary(
        household_id=household.household_id,
        version=household.version,
        member_count=len(household.members),
        resident_count=sum(1 for m in household.members if m.resident),
        children=children,
    )
