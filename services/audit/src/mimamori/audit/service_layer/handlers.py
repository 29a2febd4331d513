"""audit's handlers: append what the services report, sign the chain head."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from google.protobuf.message import Message

from mimamori.audit.adapters.event_mapping import access_fields
from mimamori.audit.domain.checkpoint import Checkpoint, StoredCheckpoint
from mimamori.audit.service_layer.unit_of_work import AuditUnitOfWork
from mimamori.events.audit.v1 import access_pb2
from mimamori.kit.messaging.envelope import Envelope


class Signer(Protocol):
    """What signing a checkpoint needs of a key."""

    @property
    def key_id(self) -> str:
        """Which key signed."""

    def sign(self, payload: bytes) -> str:
        """A token that carries the payload and its signature."""


async def on_access_recorded(message: Message, envelope: Envelope, uow: AuditUnitOfWork) -> None:
    """A service or the gateway reported an access: append it to the ledger (in the inbox's transaction)."""
    await on_accesses_recorded([(message, envelope)], uow)


async def on_accesses_recorded(events: Sequence[tuple[Message, Envelope]], uow: AuditUnitOfWork) -> None:
    """Reported accesses, appended together (one append of many rows is far cheaper than many appends)."""
    records = []
    for message, envelope in events:
        assert isinstance(message, access_pb2.AccessRecorded)
        record = message
        if not record.event_id:
            # The ledger needs an id per record; the envelope's is stable across redeliveries.
            record = access_pb2.AccessRecorded()
            record.CopyFrom(message)
            record.event_id = envelope.id
        records.append(access_fields(record))
    await uow.ledger.append(records)


async def sign_checkpoint(
    *, uow: AuditUnitOfWork, key: Signer, municipality: str, only_if_moved: bool
) -> StoredCheckpoint | None:
    """Sign the chain head and keep the checkpoint; `only_if_moved` skips it when the last has this head."""
    async with uow:
        head = await uow.ledger.head()
        if only_if_moved:
            latest = await uow.checkpoints.latest()
            if latest is not None and latest.seq == head.seq and latest.hash == head.hash:
                return None
        checkpoint = Checkpoint(seq=head.seq, hash=head.hash, signed_at=datetime.now(UTC), municipality=municipality)
        stored = await uow.checkpoints.add(checkpoint, key_id=key.key_id, token=key.sign(checkpoint.payload()))
        await uow.commit()
    return stored
