"""Cases end to end in the embedded form (every module in one process, SQLite, in-process bus), through the
gateway with the development issuer's tokens: a single mother's 児童扶養手当 and her son's school roll make the son
a young-carer candidate; a caseworker opens a case from the candidate list, and risk's filter "already a case"
follows the case through 受理 to 終結. Staff not assigned to the case are refused by casework, and every access is
in the verified audit ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimamori.kit.config import PlatformSettings
from mimamori.kit.runtime.process import Runtime, running

MONTH = "202604"
MOTHER, SON = "0000200011", "0000200029"
ADDRESS = "神奈川県足柄上郡開成町延沢８８８番地の１"
JUMIN_HEADER = "宛名番号,世帯コード,氏名,氏名カナ,性別,生年月日,続柄,住所,住民日,異動事由,異動日,住民区分,支援措置"


def jumin() -> bytes:
    rows = [JUMIN_HEADER]
    for atena, name, kana, sex, born, zokugara in [
        (MOTHER, "坂本　由紀", "ｻｶﾓﾄ ﾕｷ", "2", "19870310", "世帯主"),
        (SON, "坂本　湊", "ｻｶﾓﾄ ﾐﾅﾄ", "1", "20160705", "子"),
    ]:
        rows.append(f"{atena},0000800001,{name},{kana},{sex},{born},{zokugara},{ADDRESS},{born},出生,{born},住民,")
    return ("\r\n".join(rows) + "\r\n").encode("cp932")


def jidou_fuyou() -> bytes:
    rows = ["受給者宛名番号,資格,支給区分,認定日,喪失日,対象児童数", f"{MOTHER},有,全部支給,20200401,,1"]
    return ("\r\n".join(rows) + "\r\n").encode("cp932")


def koumu_meibo() -> bytes:
    rows = [
        "学校コード,児童生徒番号,氏名,ふりがな,性別,生年月日,学年,組,住所,保護者氏名",
        "E01,2023015,坂本　湊,さかもと みなと,男,2016-07-05,4,2,開成町延沢888-1,坂本　由紀",
    ]
    return ("\ufeff" + "\n".join(rows) + "\n").encode("utf-8")


@pytest.fixture
async def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    monkeypatch.setenv("MIMAMORI_INGEST_SEED_DEMO", "false")
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("MIMAMORI_RISK_RESCORE_POLL_SECONDS", "0.05")
    settings = PlatformSettings(data_dir=tmp_path, outbox_poll_seconds=0.05)
    async with running(targets=["all"], settings=settings) as runtime:
        yield runtime


class Staff:
    """Calls through the gateway as demo users, one token each."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.tokens: dict[str, str] = {}

    async def call(self, method: str, path: str, *, user: str, purpose: str, **kw: Any) -> httpx.Response:
        if user not in self.tokens:
            r = await self.http.post(
                "/dev-oidc/token", data={"grant_type": "password", "username": user, "password": "demo"}
            )
            self.tokens[user] = r.json()["access_token"]
        headers = {"Authorization": f"Bearer {self.tokens[user]}", "X-Purpose": purpose, **kw.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kw)

    async def upload(self, name: str, body: bytes) -> None:
        r = await self.call(
            "POST",
            f"/api/ingest/v1/files?file_name={name}",
            user="data_officer1",
            purpose="system_operation",
            content=body,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 202, r.text

    async def candidates(self, case: str | None = None) -> dict[str, tuple[bool, str | None]]:
        params: dict[str, Any] = {"month": MONTH, "size": 100, **({"case": case} if case else {})}
        r = await self.call(
            "GET",
            "/api/risk/v1/rules/young_carer/candidates",
            user="caseworker1",
            purpose="early_detection",
            params=params,
        )
        assert r.status_code == 200, r.text
        return {i["person_id"]: (i["has_open_case"], i["case_status"]) for i in r.json()["items"]}


async def test_a_candidate_becomes_a_case_and_risk_filters_follow_it_through_the_gateway(embedded: Runtime) -> None:
    gateway = embedded.module("gateway").app
    assert gateway is not None
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000", timeout=30) as http:
        staff = Staff(http)
        await staff.upload(f"jumin_{MONTH}.csv", jumin())
        await embedded.wait_idle(timeout=60)
        await staff.upload(f"jidou_fuyou_{MONTH}.csv", jidou_fuyou())
        await staff.upload(f"koumu_meibo_{MONTH}.csv", koumu_meibo())
        await embedded.wait_idle(timeout=60)
        found = await staff.call(
            "GET", "/api/identity/v1/persons", user="caseworker1", purpose="case_support", params={"atena_no": SON}
        )
        son = found.json()["items"][0]["id"]
        assert await staff.candidates() == {son: (False, None)}

        opened = await staff.call(
            "POST",
            "/api/casework/v1/cases",
            user="caseworker1",
            purpose="early_detection",
            json={
                "person_id": son,
                "difficulty_types": ["young_carer"],
                "origin": {"rule_id": "young_carer", "rule_version": 1, "month": MONTH},
            },
        )
        assert opened.status_code == 201, opened.text
        case = opened.json()
        await embedded.wait_idle(timeout=60)
        assert await staff.candidates("open") == {son: (True, "triage")}
        assert await staff.candidates("none") == {}

        # A midwife may use the route (policy) but is not assigned to this case (casework), so she is refused.
        refused = await staff.call(
            "GET", f"/api/casework/v1/cases/{case['id']}", user="midwife1", purpose="case_support"
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "case_not_assigned")
        early = await staff.call(
            "GET", f"/api/casework/v1/cases/{case['id']}", user="caseworker1", purpose="early_detection"
        )
        assert (early.status_code, early.json()["code"]) == (403, "purpose_not_allowed")

        transitions = f"/api/casework/v1/cases/{case['id']}/transitions"
        for step in ({"to": "accepted", "risk_level": 2}, {"to": "conference"}, {"to": "support"}, {"to": "closed"}):
            r = await staff.call("POST", transitions, user="caseworker1", purpose="case_support", json=step)
            assert r.status_code == 201, r.text
        await embedded.wait_idle(timeout=60)
        assert await staff.candidates("open") == {}
        assert await staff.candidates("none") == {son: (False, None)}

        await embedded.wait_idle(timeout=60)
        entries = await staff.call(
            "GET", f"/api/audit/v1/persons/{son}/accesses", user="auditor1", purpose="audit_disclosure"
        )
        assert entries.status_code == 200, entries.text
        casework = [
            (e["action"], e["route"], e["outcome"]) for e in entries.json()["items"] if e["recorder"] == "casework"
        ]
        assert ("create", "/v1/cases", "allowed") in casework
        assert casework.count(("update", "/v1/cases/{case_id}/transitions", "allowed")) == 4
        assert ("read", "/v1/cases/{case_id}", "denied") in casework
        verified = await staff.call("GET", "/api/audit/v1/verify", user="auditor1", purpose="audit_disclosure")
        assert verified.json()["ok"] is True
