"""identity started alone (SQLite or PostgreSQL, in-process bus), fed 住民記録 rows as ingest sends them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from google.protobuf.message import Message
from sqlalchemy import func, select

from mimamori.contracts import decode, event_type, topic_of
from mimamori.events.common.v1 import provenance_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import person_record_pb2
from mimamori.identity.module import IdentityModule
from mimamori.kit.auth import CONTEXT_HEADER, AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running

MUNICIPALITY = "143669"
CHANGES = {
    "added": person_record_pb2.RECORD_CHANGE_ADDED,
    "changed": person_record_pb2.RECORD_CHANGE_CHANGED,
    "removed": person_record_pb2.RECORD_CHANGE_REMOVED,
}


def iso(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:6]}-{raw[6:]}" if raw[4:6] != "00" and raw[6:] != "00" else ""


@dataclass
class Identity:
    """The started service and what a test needs to drive and observe it."""

    runtime: Runtime
    bus: InProcessBus
    module: IdentityModule
    row: int = 0

    def row_of(
        self,
        atena_no: str,
        *,
        setai_code: str,
        zokugara: str,
        name: str = "開成　太郎",
        kana: str = "ｶｲｾｲ ﾀﾛｳ",
        sex: str = "1",
        birth: str = "19850601",
        address: str = "神奈川県足柄上郡開成町延沢１２３番地",
        status: str = "住民",
        dv: bool = False,
        change: str = "added",
        change_reason: str = "転入",
        change_date: str = "20240401",
        file_name: str = "jumin_202604.csv",
        month: str = "",
    ) -> person_record_pb2.PersonRecordReceived:
        """A 住民記録 row as ingest publishes it."""
        self.row += 1
        return person_record_pb2.PersonRecordReceived(
            record_key=f"{MUNICIPALITY}:jumin:{atena_no}",
            provenance=provenance_pb2.SourceRef(
                source="jumin",
                municipality_code=MUNICIPALITY,
                file_name=file_name,
                row=self.row,
                file_sha256="0" * 64,
                load_run_id="run-" + file_name,
            ),
            change=CHANGES[change],
            month=month,
            atena_no=atena_no,
            setai_code=setai_code,
            name=name,
            name_kana=kana,
            sex=sex,
            birth_date=person_record_pb2.SourceDate(raw=birth, iso=iso(birth)),
            zokugara=zokugara,
            address=address,
            resident_since=person_record_pb2.SourceDate(raw=change_date, iso=iso(change_date)),
            change_reason=change_reason,
            change_date=person_record_pb2.SourceDate(raw=change_date, iso=iso(change_date)),
            resident_status=status,
            dv_support=dv,
        )

    @staticmethod
    def envelope(message: Message) -> Envelope:
        """The envelope ingest's outbox would relay."""
        return Envelope(
            topic=topic_of(message),
            key=getattr(message, "record_key", ""),
            type=event_type(message),
            source="ingest",
            payload=message.SerializeToString(),
            municipality=MUNICIPALITY,
            actor="officer-01",
        )

    async def feed(self, *items: Message | Envelope) -> list[Envelope]:
        """Publish records (or ready envelopes); wait until identity has handled them and relayed events."""
        envelopes = [item if isinstance(item, Envelope) else self.envelope(item) for item in items]
        await self.bus.publish(envelopes)
        await self.runtime.wait_idle()
        return envelopes

    def events(self, topic: str) -> list[Message]:
        """Every event published on a topic so far, decoded."""
        return [decode(e.type, e.payload) for e in self.bus.messages(topic)]

    def households(self) -> list[person_pb2.HouseholdChanged]:
        """Every HouseholdChanged so far."""
        return [m for m in self.events("identity.household.v1") if isinstance(m, person_pb2.HouseholdChanged)]

    def linked(self) -> list[person_pb2.PersonLinked]:
        """Every PersonLinked so far."""
        return [m for m in self.events("identity.person.v1") if isinstance(m, person_pb2.PersonLinked)]

    async def count(self, table: str) -> int:
        """Rows in one of identity's tables (the outbox and inbox included)."""
        assert self.module.sessions is not None
        kit_tables = {"outbox": self.module.outbox_table, "processed_messages": self.module.inbox_table}
        t = kit_tables[table] if table in kit_tables else self.module.tables[table]
        async with self.module.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(t)) or 0)

    async def person_id(self, atena_no: str) -> str:
        """The person of a 宛名番号."""
        assert self.module.sessions is not None
        t = self.module.tables["persons"]
        async with self.module.sessions() as session:
            found = await session.scalar(select(t.c.id).where(t.c.atena_no == atena_no))
        assert found is not None
        return str(found)

    def headers(self, *, purpose: str = "case_support", roles: tuple[str, ...] = ("caseworker",)) -> dict[str, str]:
        """A signed internal context as the gateway forwards it."""
        signer = self.runtime.platform.context_signer
        assert signer is not None
        context = AccessContext(
            subject="staff-001",
            roles=list(roles),
            org_unit="子ども育成班",
            purpose=purpose,
            decision_id=str(uuid.uuid4()),
            municipality=MUNICIPALITY,
        )
        return {CONTEXT_HEADER: signer.sign(context)}

    def client(self) -> httpx.AsyncClient:
        """An HTTP client of identity's app."""
        app = self.module.app
        assert app is not None
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://identity")


@pytest.fixture(params=["sqlite", "postgresql"])
async def identity(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Identity]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = PlatformSettings(data_dir=tmp_path, database_url=url, outbox_poll_seconds=0.2)
    bus = InProcessBus()
    async with running(targets=["identity"], settings=settings, bus=bus) as runtime:
        module = runtime.module("identity")
        assert isinstance(module, IdentityModule)
        yield Identity(runtime=runtime, bus=bus, module=module)
