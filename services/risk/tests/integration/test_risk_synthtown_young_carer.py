"""A synthetic town, three months, fed into risk as ingest and identity would announce it; the exported
young-carer sub-scores and totals equal, child by child, the independent scoring in synthtown's tests.

This test stands in for ingest and identity: it builds SourceRecordReceived from the generated files,
ReferenceResolved from truth/references (person id = truth id), HouseholdChanged from 住民記録."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mimamori.contracts import event_type, topic_of
from mimamori.events.audit.v1 import access_pb2
from mimamori.events.common.v1 import provenance_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.events.ingest.v1 import person_record_pb2
from mimamori.events.ingest.v1 import source_record_pb2 as sr
from mimamori.kit.auth import AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.envelope import Envelope
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import Runtime, running
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.service_layer import exports, rescore_runs
from mimamori.synthtown import generate_town
from mimamori.synthtown.oracle import eligibility_lists

pytestmark = pytest.mark.integration

MONTHS = ["202604", "202605", "202606"]
SYNTHTOWN_TESTS = Path(__file__).resolve().parents[4] / "tools" / "synthtown" / "tests"
EVENT_SOURCES = {"koumu_shusseki", "koumu_hokenshitsu"}
EXPORTER = AccessContext(
    subject="staff-9", roles=["caseworker"], purpose="early_detection", decision_id="d", municipality="143669"
)
ELIGIBILITY = EXPORTER.model_copy(update={"purpose": "eligibility_check"})


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


independent = _load("risk_synthtown_independent_scoring", SYNTHTOWN_TESTS / "test_young_carer_scenarios.py")
town_files = _load("risk_synthtown_town_files", SYNTHTOWN_TESTS / "conftest.py")


def sdate(value: object) -> person_record_pb2.SourceDate:
    """A source date with its ISO form, as ingest would parse it."""
    raw = "" if value is None else str(value)
    if not raw.strip():
        return person_record_pb2.SourceDate(raw=raw)
    if isinstance(value, datetime | date):
        return person_record_pb2.SourceDate(raw=raw, iso=town_files.parse_any_date(value).isoformat())
    return person_record_pb2.SourceDate(raw=raw, iso=town_files.parse_any_date(raw[:10]).isoformat())


def body(source: str, row: dict[str, Any]) -> dict[str, Any] | None:
    """The body of the canonical record a row becomes (only the layouts risk uses)."""
    v = {k: ("" if x is None else x) for k, x in row.items()}
    if source == "jidou_fuyou":
        return {
            "entitlement": sr.Entitlement(
                program=source,
                status=str(v["資格"]),
                payment_class=str(v["支給区分"]),
                start=sdate(v["認定日"]),
                end=sdate(v["喪失日"]),
                child_count=str(v["対象児童数"]),
            )
        }
    if source == "hitorioya_iryo":
        return {"entitlement": sr.Entitlement(program=source, start=sdate(v["資格取得日"]), end=sdate(v["資格喪失日"]))}
    if source == "shogai_techo":
        return {
            "certificate": sr.Certificate(
                kind=str(v["手帳種別"]),
                level=str(v["等級"]),
                issued=sdate(v["交付日"]),
                valid_until=sdate(v["有効期限"]),
            )
        }
    if source == "shogai_service":
        return {
            "service_decision": sr.ServiceDecision(
                service=str(v["サービス種類"]), start=sdate(v["支給決定開始日"]), end=sdate(v["支給決定終了日"])
            )
        }
    if source == "hoiku":
        return {
            "nursery_enrolment": sr.NurseryEnrolment(
                facility_code=str(v["施設コード"]),
                certification=str(v["認定区分"]),
                start=sdate(v["入所日"]),
                end=sdate(v["退所日"]),
            )
        }
    if source == "koumu_meibo":
        return {
            "school_roll": sr.SchoolRollEntry(
                school_code=str(v["学校コード"]), student_no=str(v["児童生徒番号"]), grade=str(v["学年"])
            )
        }
    if source == "koumu_shusseki":
        return {
            "attendance": sr.AttendanceMark(
                school_code=str(v["学校コード"]),
                student_no=str(v["児童生徒番号"]),
                date=sdate(v["日付"]),
                mark=str(v["区分"]),
            )
        }
    if source == "koumu_hokenshitsu":
        return {
            "nurse_room_visit": sr.NurseRoomVisit(
                school_code=str(v["学校コード"]),
                student_no=str(v["児童生徒番号"]),
                visited_at=str(v["来室日時"]),
                date=sdate(str(v["来室日時"])[:10]),
                response=str(v["対応"]),
            )
        }
    if source == "soudan":
        return {
            "consultation": sr.Consultation(
                system="soudan", consultation_id=str(v["相談ID"]), category=str(v["相談区分"]), date=sdate(v["相談日"])
            )
        }
    if source == "ssw_soudan":
        return {
            "consultation": sr.Consultation(
                system="ssw_soudan", date=sdate(v["受付日"]), responder=str(v["対応者"]), school_name=str(v["学校名"])
            )
        }
    if source == "shugaku_enjo":
        return {
            "school_aid": sr.SchoolAid(
                school_year=str(v["年度"]), category=str(v["認定区分"]), certified=sdate(v["認定日"])
            )
        }
    if source == "zeimu":
        return {"tax_status": sr.TaxStatus(fiscal_year=str(v["年度"]), category=str(v["課税区分"]), income="")}
    return None


SOURCES = (
    "jidou_fuyou",
    "hitorioya_iryo",
    "shogai_techo",
    "shogai_service",
    "hoiku",
    "koumu_meibo",
    "koumu_shusseki",
    "koumu_hokenshitsu",
    "soudan",
    "ssw_soudan",
    "shugaku_enjo",
    "zeimu",
)


def envelope(message: Any, key: str) -> Envelope:
    return Envelope(
        topic=topic_of(message),
        key=key,
        type=event_type(message),
        source="test",
        payload=message.SerializeToString(),
        municipality="143669",
    )


class Feeder:
    """Announces a month of the town the way ingest and identity would."""

    def __init__(self, town: Any) -> None:
        self.town = town
        self.present: dict[str, dict[str, sr.SourceRecordReceived]] = defaultdict(dict)
        self.households: set[str] = set()
        self.version = 0
        self.addresses: dict[str, str] = {}

    def month(self, month: str) -> list[Envelope]:
        self.version += 1
        out: list[Envelope] = []
        members: dict[str, list[person_pb2.HouseholdMember]] = defaultdict(list)
        for row, refs in independent.MonthView(self.town, month).rows("jumin"):
            (ref,) = refs
            members[str(row["世帯コード"])].append(
                person_pb2.HouseholdMember(
                    person_id=ref.truth_id,
                    zokugara=str(row["続柄"]),
                    birth_date=str(row["生年月日"]),
                    birth_date_raw=str(row["生年月日"]),
                    sex=str(row["性別"]),
                    resident=row["住民区分"] == "住民",
                )
            )
            out.append(
                envelope(person_pb2.PersonLinked(person_id=ref.truth_id, atena_no=str(row["宛名番号"])), ref.truth_id)
            )
            jumin = person_record_pb2.PersonRecordReceived(
                record_key=f"jumin:{row['宛名番号']}",
                change=person_record_pb2.RECORD_CHANGE_CHANGED,
                atena_no=str(row["宛名番号"]),
                address=str(row["住所"]),
                resident_status=str(row["住民区分"]),
                dv_support=bool(row["支援措置"]),
            )
            out.append(envelope(jumin, jumin.record_key))
            self.addresses[ref.truth_id] = "" if row["支援措置"] else str(row["住所"])
        for code in sorted(self.households | set(members)):
            message = person_pb2.HouseholdChanged(
                household_id=code, setai_code=code, members=members.get(code, []), version=self.version, month=month
            )
            out.append(envelope(message, code))
        self.households |= set(members)
        references: list[Envelope] = []
        for source in SOURCES:
            path = self.town.path(source, month)
            seen: dict[str, sr.SourceRecordReceived] = {}
            for number, (row, refs) in enumerate(independent.MonthView(self.town, month).rows(source), start=1):
                parts = body(source, row)
                assert parts is not None
                digest = hashlib.sha256(repr(sorted(row.items(), key=lambda kv: kv[0])).encode()).hexdigest()[:24]
                key = f"{source}:{month}:{number}" if source in EVENT_SOURCES else f"{source}:{digest}"
                if key in seen:
                    continue
                message = sr.SourceRecordReceived(
                    record_key=key,
                    provenance=provenance_pb2.SourceRef(source=source, file_name=path.name, row=number),
                    change=person_record_pb2.RECORD_CHANGE_ADDED,
                    month=month,
                    persons=[sr.PersonReference(role=ref.role) for ref in refs],
                    **parts,
                )
                seen[key] = message
                if key in self.present[source]:
                    continue  # unchanged: ingest emits nothing
                out.append(envelope(message, key))
                for index, ref in enumerate(refs):
                    resolved = person_pb2.ReferenceResolved(
                        record_key=key,
                        source=source,
                        reference_index=index,
                        role=ref.role,
                        person_id=ref.truth_id,
                        version=1,
                    )
                    references.append(envelope(resolved, key))
            if source not in EVENT_SOURCES:
                for key, gone in self.present[source].items():
                    if key not in seen:
                        removed = sr.SourceRecordReceived()
                        removed.CopyFrom(gone)
                        removed.change = person_record_pb2.RECORD_CHANGE_REMOVED
                        removed.month = month
                        out.append(envelope(removed, key))
                self.present[source] = seen
            else:
                self.present[source].update(seen)
        return out + references


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out_dir = tmp_path_factory.mktemp("risk_town")
    truth = generate_town(seed=11, households=48, months=MONTHS, out_dir=out_dir)
    return town_files.GeneratedTown(out_dir, truth)


@pytest.fixture(params=["sqlite", "postgres"])
async def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Runtime]:
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    settings = PlatformSettings(data_dir=tmp_path, database_url=database_url, outbox_poll_seconds=0.05)
    async with running(targets=["risk"], settings=settings, bus=InProcessBus()) as started:
        yield started


def expected_population(town: Any, month: str) -> set[str]:
    view = independent.MonthView(town, month)
    current = {refs[0].truth_id for row, refs in view.rows("jumin") if row["住民区分"] == "住民"}
    roll = {ref.truth_id for _, refs in view.rows("koumu_meibo") for ref in refs if ref.role == "child"}
    return roll & current


async def test_exported_young_carer_scores_equal_the_independent_scoring(town: Any, runtime: Runtime) -> None:
    assert set(town.truth.scenarios) == set(independent.EXPECTED)
    module = runtime.module("risk")
    factory = module.app.state.uow_factory  # type: ignore[union-attr]
    by_atena = {p.atena: p.truth_id for p in town.truth.persons.values() if p.atena}
    feeder = Feeder(town)
    bus = runtime.platform.bus
    checked_candidates = 0

    async def check(month: str) -> None:
        nonlocal checked_candidates
        rows = await exports.rule_rows(
            "young_carer", month=AssessmentMonth.parse(month), uow=factory(), context=EXPORTER, route="test"
        )
        assert rows[0] == ["宛名番号", "a", "b", "c", "d", "total"]
        exported = {by_atena[r[0]]: r[1:] for r in rows[1:]}
        assert set(exported) == expected_population(town, month), month
        for child_id, values in sorted(exported.items()):
            want = independent.score(town, child_id, month)
            a, b, c, d, total = values
            if want is None:
                assert (a, b, c, total) == ("0", "0", "0", ""), (month, child_id, values)
            else:
                checked_candidates += 1
                assert (int(a), int(b), int(c), int(d)) == want, (month, child_id, values)
                assert total == str(sum(want)), (month, child_id, values)
        for tag, expected in independent.EXPECTED.items():
            (child_id,) = town.truth.scenarios[tag]
            want = expected[MONTHS.index(month)]
            got = exported[child_id]
            assert (got[-1] == "") == (want is None), (tag, month, got)

    for month in MONTHS:
        await bus.publish(feeder.month(month))
        await runtime.wait_idle(timeout=120)
        await check(month)
    # Re-scored after the last month's data (as a new rule version would), each earlier month is scored with the
    # households it had then (households by month), and still equals the independent scoring.
    for month in MONTHS[:-1]:
        async with factory() as uow:
            await rescore_runs.schedule(uow, month=month, reason="requested")
            await uow.commit()
        await runtime.wait_idle(timeout=120)
        await check(month)
    assert checked_candidates > 22


async def test_eligibility_lists_and_the_routes_on_the_same_town(town: Any, runtime: Runtime) -> None:
    module = runtime.module("risk")
    app = module.app
    assert app is not None
    factory = app.state.uow_factory
    by_atena = {p.atena: p.truth_id for p in town.truth.persons.values() if p.atena}
    feeder = Feeder(town)
    sizes = defaultdict(int)
    for month in MONTHS:
        await runtime.platform.bus.publish(feeder.month(month))
        await runtime.wait_idle(timeout=120)
        want = eligibility_lists(town.out_dir, month)  # the independent oracle of the documented definitions
        for list_id in ("E1", "E2", "E3"):
            rows = await exports.eligibility_rows(
                list_id,
                month=AssessmentMonth.parse(month),
                uow=factory(),
                context=ELIGIBILITY,
                route="test",
                chunk_households=7,  # many chunks: a list is the union of the chunks' lists
            )
            got = {r[0] for r in rows[1:]}
            assert got == want[list_id], (month, list_id, got ^ want[list_id])
            sizes[list_id] += len(got)
    assert all(sizes[k] > 0 for k in ("E1", "E2", "E3")), sizes

    # The stored (incremental) scores equal a full re-score of the last month.
    from mimamori.risk.service_layer import scoring

    before = await exports.rule_rows(
        "young_carer", month=AssessmentMonth.parse(MONTHS[-1]), uow=factory(), context=EXPORTER, route="test"
    )
    uow = factory()
    async with uow:
        await scoring.rescore(uow, month=AssessmentMonth.parse(MONTHS[-1]))
        await uow.commit()
    after = await exports.rule_rows(
        "young_carer", month=AssessmentMonth.parse(MONTHS[-1]), uow=factory(), context=EXPORTER, route="test"
    )
    assert before == after

    import httpx

    from mimamori.kit.auth import CONTEXT_HEADER

    signer = runtime.platform.context_signer
    assert signer is not None

    def headers(purpose: str, role: str) -> dict[str, str]:
        context = AccessContext(
            subject="staff-1", roles=[role], org_unit="kodomo", purpose=purpose, decision_id="d", municipality="143669"
        )
        return {CONTEXT_HEADER: signer.sign(context)}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://risk") as client:
        month = MONTHS[-1]
        page = await client.get(
            f"/v1/rules/young_carer/candidates?month={month}&size=5", headers=headers("early_detection", "caseworker")
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] > 5 and len(body["items"]) == 5
        first = body["items"][0]
        totals = [i["total"] for i in body["items"]]
        assert totals == sorted(totals, reverse=True)
        tree = first["explanation"]
        assert tree["total"] == first["total"]
        assert sum(s["score"] for s in tree["subscores"]) == first["total"]
        awarded = [f for s in tree["subscores"] for i in s["items"] if i["awarded"] for f in i["facts"]]
        assert awarded and all(f["file"] and f["row"] > 0 and f["source"] for f in awarded)

        pseudo = await client.get(
            f"/v1/rules/young_carer/candidates?month={month}&size=5",
            headers=headers("criteria_design", "contractor_analyst"),
        )
        assert pseudo.status_code == 200
        assert all("person_id" not in i and i["pseudonym"].startswith("P") for i in pseudo.json()["items"])

        refused = await client.get(
            f"/v1/eligibility/E1?month={month}", headers=headers("early_detection", "caseworker")
        )
        assert refused.status_code == 403
        allowed = await client.get(
            f"/v1/eligibility/E1?month={month}", headers=headers("eligibility_check", "caseworker")
        )
        assert allowed.status_code == 200 and allowed.json()["items"]

        cells = (
            await client.get(
                f"/v1/rules/young_carer/aggregates?month={month}&group_by=grade",
                headers=headers("policy_statistics", "analyst"),
            )
        ).json()["cells"]
        shown = [c["candidates"] for c in cells if c["candidates"] is not None]
        assert all(n >= 5 for n in shown)
        assert sum(1 for c in cells if c["candidates"] is None) != 1  # never a lone hidden cell

        history = await client.get(
            f"/v1/children/{first['person_id']}/assessments", headers=headers("case_support", "caseworker")
        )
        months = {a["month"] for a in history.json()["assessments"] if a["rule"] == "young_carer"}
        assert months <= set(MONTHS) and month in months

        feed = (await client.get("/v1/alerts?limit=1000", headers=headers("early_detection", "caseworker"))).json()
        assert feed["items"] and {i["rule"] for i in feed["items"]} >= {"young_carer"}
        # Correlations between indicators: only pairs whose every 2x2 cell has 5 or more children are shown.
        corr = await client.get(
            f"/v1/indicators/correlations?month={month}&level=subscore", headers=headers("policy_statistics", "analyst")
        )
        assert corr.status_code == 200, corr.text
        pairs = corr.json()["pairs"]
        assert len(pairs) == 15 * 14 // 2  # six rules: candidacy and sub-scores
        assert all(
            p["both"] >= 5 and p["children"] - p["both"] >= 15 and -1 <= p["phi"] <= 1 for p in pairs if p["phi"]
        )
        assert all(p["both"] is None and p["phi"] is None for p in pairs if p["suppressed"])
        counts = {c["indicator"]: c for c in corr.json()["indicators"]}
        with_a = sum(1 for r in after[1:] if int(r[1]) > 0)
        assert counts["young_carer.a"]["children"] == len(after) - 1
        assert counts["young_carer.a"]["holds"] == (with_a if min(with_a, len(after) - 1 - with_a) >= 5 else None)
        assert (
            await client.get(
                f"/v1/indicators/correlations?month={month}", headers=headers("early_detection", "caseworker")
            )
        ).status_code == 403

        # Districts (大字 of 住民記録's address): a grouping of the aggregates and a filter of the candidates.
        by_district = (
            await client.get(
                f"/v1/rules/young_carer/aggregates?month={month}&group_by=district",
                headers=headers("policy_statistics", "analyst"),
            )
        ).json()["cells"]
        groups = {c["group"] for c in by_district}
        assert len(groups - {"不明"}) >= 2
        assert all(g == "不明" or any(f"開成町{g}" in a for a in feeder.addresses.values()) for g in groups)
        assert sum(c["scored"] or 0 for c in by_district) <= len(after) - 1
        district = max((c for c in by_district if c["group"] != "不明"), key=lambda c: c["scored"] or 0)["group"]
        in_district = (
            await client.get(
                f"/v1/rules/young_carer/candidates?month={month}&district={district}&size=500",
                headers=headers("early_detection", "caseworker"),
            )
        ).json()
        everyone = (
            await client.get(
                f"/v1/rules/young_carer/candidates?month={month}&size=500",
                headers=headers("early_detection", "caseworker"),
            )
        ).json()
        assert 0 < in_district["total"] < everyone["total"]
        assert {i["person_id"] for i in in_district["items"]} == {
            i["person_id"] for i in everyone["items"] if f"開成町{district}" in feeder.addresses[i["person_id"]]
        }

        # Alerts are about changes: the first month ever scored raises none.
        assert all(i["month"] != MONTHS[0] for i in feed["items"])

        # CSV exports are audited like every personal read: who, which purpose, every person in the file.
        for path, purpose in (
            (f"/v1/eligibility/E2/export?month={month}", "eligibility_check"),
            (f"/v1/rules/young_carer/export?month={month}", "early_detection"),
        ):
            exported = await client.get(path, headers=headers(purpose, "caseworker"))
            assert exported.status_code == 200, exported.text
            await runtime.wait_idle()
            listed = {by_atena[line.split(",")[0]] for line in exported.text.splitlines()[1:]}
            route = path.split("?")[0].replace("E2", "{list_id}").replace("young_carer", "{rule_id}")
            records = [e for e in audit_events(runtime) if e.route == route]
            assert records, route
            assert records[-1].purpose == purpose and records[-1].action == "export" and records[-1].actor == "staff-1"
            assert listed and set(records[-1].person_ids) == listed


def audit_events(runtime: Runtime) -> list[access_pb2.AccessRecorded]:
    bus = runtime.platform.bus
    assert isinstance(bus, InProcessBus)
    events = []
    for envelope in bus.messages("audit.access.v1"):
        event = access_pb2.AccessRecorded()
        event.ParseFromString(envelope.payload)
        events.append(event)
    return events
