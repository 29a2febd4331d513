"""`mimamori identity export-links` on the embedded data directory."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from mimamori.contracts import event_type, topic_of
from mimamori.events.common.v1 import provenance_pb2
from mimamori.events.ingest.v1 import delivery_rows_pb2, person_record_pb2, source_record_pb2
from mimamori.identity.entrypoints.cli import identity as identity_cli
from mimamori.identity.service_layer.export import link_lines
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import running

pytestmark = pytest.mark.integration

MUNICIPALITY = "143669"


def _envelope(message: object) -> Envelope:
    key = message.file_name if isinstance(message, delivery_rows_pb2.DeliveryRowsIndexed) else message.record_key  # type: ignore[attr-defined]
    return Envelope(
        topic=topic_of(message),  # type: ignore[arg-type]
        key=key,
        type=event_type(message),  # type: ignore[arg-type]
        source="ingest",
        payload=message.SerializeToString(),  # type: ignore[attr-defined]
        municipality=MUNICIPALITY,
    )


def _jumin(
    atena: str, row: int, *, name: str, kana: str, birth: str, zokugara: str
) -> person_record_pb2.PersonRecordReceived:
    return person_record_pb2.PersonRecordReceived(
        record_key=f"{MUNICIPALITY}:jumin:{atena}",
        provenance=provenance_pb2.SourceRef(
            source="jumin", municipality_code=MUNICIPALITY, file_name="jumin_202604.csv", row=row
        ),
        change=person_record_pb2.RECORD_CHANGE_ADDED,
        atena_no=atena,
        setai_code="1000000001",
        name=name,
        name_kana=kana,
        sex="2",
        birth_date=person_record_pb2.SourceDate(raw=birth, iso=f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"),
        zokugara=zokugara,
        address="神奈川県足柄上郡開成町延沢１２３番地",
        resident_status="住民",
    )


def test_export_writes_one_line_per_reference_with_person_and_atena(tmp_path: Path) -> None:
    import asyncio

    roll = source_record_pb2.SourceRecordReceived(
        record_key=f"{MUNICIPALITY}:koumu_meibo:B1:7",
        provenance=provenance_pb2.SourceRef(
            source="koumu_meibo", municipality_code=MUNICIPALITY, file_name="koumu_meibo_202604.csv", row=5
        ),
        change=person_record_pb2.RECORD_CHANGE_ADDED,
        month="202604",
        persons=[
            source_record_pb2.PersonReference(
                role="child",
                name="冨田 莉子",
                name_kana="とみた りこ",
                sex="2",
                birth_date=person_record_pb2.SourceDate(raw="2014-07-21", iso="2014-07-21"),
                school_code="B1",
                student_no="7",
                grade="6",
            ),
            source_record_pb2.PersonReference(role="guardian", name="富田　恵"),
            source_record_pb2.PersonReference(role="guardian", name="山田　花子"),
        ],
    )

    async def load() -> None:
        settings = PlatformSettings(data_dir=tmp_path, outbox_poll_seconds=0.2)
        async with running(targets=["identity"], settings=settings, bus=InProcessBus()) as runtime:
            await runtime.platform.bus.publish(
                [
                    _envelope(
                        _jumin("0000000011", 1, name="冨田　恵", kana="ﾄﾐﾀ ﾒｸﾞﾐ", birth="19880401", zokugara="世帯主")
                    ),
                    _envelope(
                        _jumin("0000000013", 2, name="冨田　莉子", kana="ﾄﾐﾀ ﾘｺ", birth="20140721", zokugara="子")
                    ),
                    _envelope(roll),
                ]
            )
            await runtime.wait_idle()

    asyncio.run(load())
    out = tmp_path / "links.csv"
    result = CliRunner().invoke(identity_cli, ["export-links", "--out", str(out), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["source", "file", "row", "role", "person_id", "atena_no", "grade"]
    by_place = {(r["file"], r["row"], r["role"]): r for r in rows}
    assert len(rows) == 5
    mother = by_place[("jumin_202604.csv", "1", "subject")]
    child = by_place[("koumu_meibo_202604.csv", "5", "child")]
    assert (child["atena_no"], child["grade"]) == ("0000000013", "certain")
    assert child["person_id"] == by_place[("jumin_202604.csv", "2", "subject")]["person_id"] != ""
    guardians = [r for r in rows if r["role"] == "guardian"]
    assert {(g["atena_no"], g["person_id"] == mother["person_id"]) for g in guardians} == {
        ("0000000011", True),
        ("", False),
    }
    assert "5 references, 4 linked" in result.output


def _index(file_name: str, run: str, rows: list[tuple[int, str]]) -> delivery_rows_pb2.DeliveryRowsIndexed:
    return delivery_rows_pb2.DeliveryRowsIndexed(
        source=file_name.rsplit("_", 1)[0],
        municipality=MUNICIPALITY,
        file_name=file_name,
        load_run_id=run,
        rows=[delivery_rows_pb2.IndexedRow(row=row, record_key=key) for row, key in rows],
    )


def test_export_lists_the_rows_of_every_months_file(tmp_path: Path) -> None:
    """Records unchanged in later months (no record event) still get a line per row of each month's file; a newer
    load run of a file name supersedes the rows of the earlier one."""
    import asyncio

    mother_key, child_key = f"{MUNICIPALITY}:jumin:0000000011", f"{MUNICIPALITY}:jumin:0000000013"
    roll_key = f"{MUNICIPALITY}:koumu_meibo:B1:7"
    roll = source_record_pb2.SourceRecordReceived(
        record_key=roll_key,
        provenance=provenance_pb2.SourceRef(
            source="koumu_meibo", municipality_code=MUNICIPALITY, file_name="koumu_meibo_202604.csv", row=5
        ),
        change=person_record_pb2.RECORD_CHANGE_ADDED,
        month="202604",
        persons=[source_record_pb2.PersonReference(role="child", atena_no="0000000013")],
    )

    async def load() -> None:
        settings = PlatformSettings(data_dir=tmp_path, outbox_poll_seconds=0.2)
        async with running(targets=["identity"], settings=settings, bus=InProcessBus()) as runtime:
            await runtime.platform.bus.publish(
                [
                    _envelope(
                        _jumin("0000000011", 1, name="冨田　恵", kana="ﾄﾐﾀ ﾒｸﾞﾐ", birth="19880401", zokugara="世帯主")
                    ),
                    _envelope(
                        _jumin("0000000013", 2, name="冨田　莉子", kana="ﾄﾐﾀ ﾘｺ", birth="20140721", zokugara="子")
                    ),
                    _envelope(roll),
                    _envelope(_index("jumin_202604.csv", "r1", [(1, mother_key), (2, child_key)])),
                    _envelope(_index("koumu_meibo_202604.csv", "r2", [(5, roll_key)])),
                    _envelope(_index("jumin_202605.csv", "r3", [(1, child_key), (2, mother_key)])),
                    _envelope(_index("koumu_meibo_202605.csv", "r4", [(6, roll_key)])),
                    _envelope(_index("koumu_meibo_202605.csv", "r5", [(8, roll_key)])),
                ]
            )
            await runtime.wait_idle()

    asyncio.run(load())
    out = tmp_path / "links.csv"
    result = CliRunner().invoke(identity_cli, ["export-links", "--out", str(out), "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    places = {(r["file"], r["row"], r["role"]): r["atena_no"] for r in rows}
    assert places == {
        ("jumin_202604.csv", "1", "subject"): "0000000011",
        ("jumin_202604.csv", "2", "subject"): "0000000013",
        ("jumin_202605.csv", "1", "subject"): "0000000013",
        ("jumin_202605.csv", "2", "subject"): "0000000011",
        ("koumu_meibo_202604.csv", "5", "child"): "0000000013",
        ("koumu_meibo_202605.csv", "8", "child"): "0000000013",
    }
    assert len(rows) == len(places)


async def test_export_pages_join_indexed_rows_with_the_current_resolution(identity) -> None:
    """Both backends: the union of indexed and unindexed lines pages without gaps or repeats."""
    mother = identity.row_of("0000000021", setai_code="1000000002", zokugara="世帯主")
    child = identity.row_of("0000000023", setai_code="1000000002", zokugara="子", name="開成　花子", birth="20150301")
    unindexed = identity.row_of("0000000025", setai_code="1000000003", zokugara="世帯主", birth="19700101")
    roll = source_record_pb2.SourceRecordReceived(
        record_key=f"{MUNICIPALITY}:koumu_meibo:B1:9",
        provenance=provenance_pb2.SourceRef(
            source="koumu_meibo", municipality_code=MUNICIPALITY, file_name="koumu_meibo_202604.csv", row=3
        ),
        change=person_record_pb2.RECORD_CHANGE_ADDED,
        month="202604",
        persons=[
            source_record_pb2.PersonReference(role="child", atena_no="0000000023"),
            source_record_pb2.PersonReference(role="guardian", atena_no="0000000021"),
        ],
    )
    await identity.feed(mother, child, unindexed, roll)
    await identity.feed(
        *[
            _envelope(_index(f"jumin_2026{m}.csv", f"j{m}", [(1, mother.record_key), (2, child.record_key)]))
            for m in ("04", "05", "06")
        ],
        *[_envelope(_index(f"koumu_meibo_2026{m}.csv", f"k{m}", [(3, roll.record_key)])) for m in ("04", "05")],
    )
    factory = identity.module.app.state.uow_factory
    lines = []
    while True:
        page = await link_lines(uow=factory(), offset=len(lines), limit=4)
        lines.extend(page)
        if len(page) < 4:
            break
    places = {(line.file, line.row, line.role): line.atena_no for line in lines}
    assert len(lines) == len(places) == 6 + 1 + 4
    assert places[("jumin_202604.csv", unindexed.provenance.row, "subject")] == "0000000025"
    assert {places[(f"jumin_2026{m}.csv", 2, "subject")] for m in ("04", "05", "06")} == {"0000000023"}
    assert [places[(f"koumu_meibo_2026{m}.csv", 3, r)] for m in ("04", "05") for r in ("child", "guardian")] == [
        "0000000023",
        "0000000021",
    ] * 2
    assert [line.role for line in lines[:7]] == ["subject"] * 7  # 住民記録 first


async def test_a_row_of_an_earlier_month_names_whom_that_months_version_named(identity) -> None:
    """A roll entry whose guardian changed (after a divorce the mother replaces the father): April's and May's rows
    name the father, June's the mother; an answer waiting for review shows the person proposed, graded probable."""
    home = "1000000004"
    father = identity.row_of("0000000041", setai_code=home, zokugara="世帯主", name="岩本　大輔", sex="1")
    mother = identity.row_of("0000000043", setai_code=home, zokugara="妻", name="岩本　麻衣", sex="2")
    child = identity.row_of("0000000045", setai_code=home, zokugara="子", name="岩本　結衣", birth="20150706")
    key = f"{MUNICIPALITY}:koumu_meibo:B1:11"

    def roll(month: str, guardian: str) -> source_record_pb2.SourceRecordReceived:
        return source_record_pb2.SourceRecordReceived(
            record_key=key,
            provenance=provenance_pb2.SourceRef(
                source="koumu_meibo", municipality_code=MUNICIPALITY, file_name=f"koumu_meibo_{month}.csv", row=2
            ),
            change=person_record_pb2.RECORD_CHANGE_ADDED
            if month == "202604"
            else person_record_pb2.RECORD_CHANGE_CHANGED,
            month=month,
            persons=[
                source_record_pb2.PersonReference(role="child", atena_no="0000000045"),
                source_record_pb2.PersonReference(role="guardian", name=guardian),
            ],
        )

    await identity.feed(father, mother, child, roll("202604", "岩本　大輔"))
    await identity.feed(*[_envelope(_index(f"koumu_meibo_2026{m}.csv", f"k{m}", [(2, key)])) for m in ("04", "05")])
    await identity.feed(roll("202606", "岩本　麻衣"), _envelope(_index("koumu_meibo_202606.csv", "k06", [(2, key)])))
    aid = source_record_pb2.SourceRecordReceived(
        record_key=f"{MUNICIPALITY}:shugaku_enjo:x1",
        provenance=provenance_pb2.SourceRef(
            source="shugaku_enjo", municipality_code=MUNICIPALITY, file_name="shugaku_enjo_202606.xlsx", row=4
        ),
        change=person_record_pb2.RECORD_CHANGE_ADDED,
        month="202606",
        persons=[  # the birth date typed a year off, nothing else to go by: waits for review
            source_record_pb2.PersonReference(
                role="child",
                name="岩本 結衣",
                birth_date=person_record_pb2.SourceDate(raw="2016-07-06", iso="2016-07-06"),
            )
        ],
    )
    await identity.feed(aid, _envelope(_index("shugaku_enjo_202606.xlsx", "s06", [(4, aid.record_key)])))
    factory = identity.module.app.state.uow_factory
    lines = await link_lines(uow=factory(), offset=0, limit=100)
    guardians = {line.file: line.atena_no for line in lines if line.role == "guardian"}
    assert guardians == {
        "koumu_meibo_202604.csv": "0000000041",
        "koumu_meibo_202605.csv": "0000000041",
        "koumu_meibo_202606.csv": "0000000043",
    }
    (proposed,) = [line for line in lines if line.source == "shugaku_enjo"]
    assert (proposed.atena_no, proposed.grade) == ("0000000045", "probable")
