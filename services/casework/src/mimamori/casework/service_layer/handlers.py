"""casework's handlers: one per command or event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from google.protobuf.message import Message

from mimamori.casework.domain.model import Observation, ObservationCategory
from mimamori.casework.service_layer.unit_of_work import CaseworkUnitOfWork
from mimamori.events.casework.v1 import observation_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.kit.audit_trail import access_event, record_access
from mimamori.kit.auth import AccessContext
from mimamori.kit.messaging.envelope import Envelope

SERVICE = "casework"


class PersonNotFound(LookupError):
    """No person with this id is known to casework."""


@dataclass(frozen=True, slots=True)
class RecordObservation:
    """Command: record a 見守り情報."""

    person_id: str
    category: ObservationCategory
    text: str
    observed_on: date


async def record_observation(
    command: RecordObservation, *, uow: CaseworkUnitOfWork, context: AccessContext, route: str, today: date
) -> Observation:
    """Record an observation about a known person; the audit record commits with it."""
    async with uow:
        if not await uow.persons.exists(command.person_id):
            raise PersonNotFound(command.person_id)
        observation = Observation.record(
            person_id=command.person_id,
            category=command.category,
            text=command.text,
            observed_on=command.observed_on,
            recorded_by=context.subject,
            today=today,
        )
        await uow.observations.add(observation)
        uow.publish(
            observation_pb2.ObservationRecorded(
                observation_id=observation.id,
                person_id=observation.person_id,
                category=observation.category.value,
                recorded_by=observation.recorded_by,
                observed_on=observation.observed_on.isoformat(),
            ),
            key=observation.person_id,
            actor=context.subject,
            purpose=context.purpose,
        )
        record_access(
            uow,
            access_event(
                recorder=SERVICE,
                context=context,
                action="create",
                method="POST",
                route=route,
                person_ids=[observation.person_id],
                status_code=201,
            ),
        )
        await uow.commit()
    return observation


async def list_observations(
    person_id: str, *, uow: CaseworkUnitOfWork, context: AccessContext, route: str, limit: int, offset: int
) -> list[Observation]:
    """A person's observations, with those recorded under ids identity merged into them (or, for a merged id,
    under the person it was merged into); the read itself is audited."""
    async with uow:
        observations = await uow.observations.page_if_known(person_id, limit=limit, offset=offset)
        if observations is None:
            raise PersonNotFound(person_id)
        # Observations recorded under an id identity merged into this person are disclosed too.
        disclosed = sorted({person_id} | {o.person_id for o in observations})
        record_access(
            uow,
            access_event(
                recorder=SERVICE, context=context, action="read", method="GET", route=route, person_ids=disclosed
            ),
        )
        await uow.commit()
    return observations


async def on_person_linked(message: Message, envelope: Envelope, uow: CaseworkUnitOfWork) -> None:
    """identity announced a person: remember it, so observations can be recorded about them."""
    assert isinstance(message, person_pb2.PersonLinked)
    await uow.persons.upsert(message.person_id, resident=True)


async def on_household_changed(message: Message, envelope: Envelope, uow: CaseworkUnitOfWork) -> None:
    """Keep residency of the household's members current."""
    assert isinstance(message, person_pb2.HouseholdChanged)
    for member in message.members:
        await uow.persons.upsert(member.person_id, resident=member.resident)


async def on_persons_merged(message: Message, envelope: Envelope, uow: CaseworkUnitOfWork) -> None:
    """identity merged two entries of one person: reads of either now include what was recorded under the other.
    Cases and observations keep the ids they were recorded under, so an unmerge restores them exactly."""
    assert isinstance(message, person_pb2.PersonsMerged)
    await uow.aliases.merge(
        surviving=message.surviving_person_id, merged=message.merged_person_id, merge_id=message.merge_id
    )


async def on_person_unmerged(message: Message, envelope: Envelope, uow: CaseworkUnitOfWork) -> None:
    """identity undid a merge: the restored person is read on their own again."""
    assert isinstance(message, person_pb2.PersonUnmerged)
    await uow.aliases.unmerge(restored=message.restored_person_id, merge_id=message.merge_id)
