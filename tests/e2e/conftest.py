"""The thin slice through every service, driven through the gateway with tokens; run in both deployments."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

MONTH = "202604"
# A single-parent household (母 is the 世帯主, one 子 of school age) and a two-parent one. The names and the
# address are what the telemetry test looks for in logs and spans: they must never appear there.
PARENT = ("0000100015", "0000900001", "髙橋　美咲", "ﾀｶﾊｼ ﾐｻｷ", "2", "19880412", "世帯主")
CHILD = ("0000100023", "0000900001", "髙橋　陽翔", "ﾀｶﾊｼ ﾊﾙﾄ", "1", "20160705", "子")
OTHER = [
    ("0000100031", "0000900002", "見守　太郎", "ﾐﾏﾓﾘ ﾀﾛｳ", "1", "19820101", "世帯主"),
    ("0000100040", "0000900002", "見守　花子", "ﾐﾏﾓﾘ ﾊﾅｺ", "2", "19840202", "妻"),
    ("0000100058", "0000900002", "見守　蓮", "ﾐﾏﾓﾘ ﾚﾝ", "1", "20170303", "子"),
]
ADDRESS = "神奈川県足柄上郡開成町延沢９９９番地の７"
SECRET_VALUES = ["髙橋　美咲", "髙橋　陽翔", "見守　太郎", "ﾀｶﾊｼ ﾐｻｷ", "ﾐﾏﾓﾘ ﾊﾅｺ", ADDRESS, "延沢９９９", "0000100023"]
OBSERVATION_TEXT = "家庭訪問。母親は夜勤が続き、陽翔さんが家事を担っている様子。"
HEADER = "宛名番号,世帯コード,氏名,氏名カナ,性別,生年月日,続柄,住所,住民日,異動事由,異動日,住民区分,支援措置"


def jumin_file() -> bytes:
    """A small 住民記録 export in the reference layout (CP932, CRLF)."""
    rows = [HEADER]
    for atena, setai, name, kana, sex, born, zokugara in [PARENT, CHILD, *OTHER]:
        rows.append(f"{atena},{setai},{name},{kana},{sex},{born},{zokugara},{ADDRESS},{born},出生,{born},住民,")
    return ("\r\n".join(rows) + "\r\n").encode("cp932")


@dataclass
class Outcome:
    """What the scenario saw, for the tests to assert on."""

    child_id: str = ""
    parent_id: str = ""
    statuses: dict[str, int] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    observation: dict[str, Any] = field(default_factory=dict)
    created_observation: dict[str, Any] = field(default_factory=dict)
    child_view: dict[str, Any] = field(default_factory=dict)
    verification: dict[str, Any] = field(default_factory=dict)
    audit_entries: list[dict[str, Any]] = field(default_factory=list)
    traceparent: str = ""
    decisions: dict[str, str] = field(default_factory=dict)  # the gateway's decision id of the write and the read

    def assert_decisions_on_record(self) -> None:
        """Each decision is in the ledger once: the write's recorded by the gateway before casework acted, the
        read's handed to casework and committed with its record of the read, ahead of it."""
        for call, relayed_by, action in (("create", "", "create"), ("read", "casework", "read")):
            decision_id = self.decisions[call]
            decided = [e for e in self.audit_entries if e["decision_id"] == decision_id and e["action"] == "decide"]
            assert len(decided) == 1, (call, decided)
            assert (decided[0]["recorder"], decided[0]["outcome"], decided[0]["relayed_by"]) == (
                "gateway",
                "allowed",
                relayed_by,
            )
            assert decided[0]["person_ids"] == [self.child_id]
            [access] = [e for e in self.audit_entries if e["decision_id"] == decision_id and e["action"] == action]
            assert access["recorder"] == "casework"
            if relayed_by:  # one transaction, one outbox: the decision ahead of the read (the write's two
                # records come through two relays, in either order)
                assert decided[0]["seq"] < access["seq"]


async def eventually(probe: Callable[[], Awaitable[Any]], *, what: str, within: float = 60.0) -> Any:
    """Poll until probe returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


class Slice:
    """The scenario: upload 住民記録, find the child, read its household, write and read a 見守り情報, be refused
    four ways, and find every decision in a verified audit ledger."""

    def __init__(self, http: httpx.AsyncClient, *, expired_token: str | None = None) -> None:
        self.http = http
        self.expired_token = expired_token
        self.tokens: dict[str, str] = {}

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            response = await self.http.post(
                "/dev-oidc/token",
                data={"grant_type": "password", "username": username, "password": "demo"},
            )
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["access_token"]
        return self.tokens[username]

    async def call(
        self, method: str, path: str, *, user: str | None, purpose: str | None, token: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if token is None and user is not None:
            token = await self.token(user)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if purpose is not None:
            headers["X-Purpose"] = purpose
        return await self.http.request(method, path, headers=headers, **kw)

    async def run(self) -> Outcome:
        outcome = Outcome()
        upload = await self.call(
            "POST",
            f"/api/ingest/v1/files?file_name=jumin_{MONTH}.csv",
            user="data_officer1",
            purpose="system_operation",
            content=jumin_file(),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert upload.status_code == 202, upload.text
        run_id = upload.json()["id"]

        async def run_done() -> dict[str, Any] | None:
            r = await self.call(
                "GET", f"/api/ingest/v1/load-runs/{run_id}", user="data_officer1", purpose="system_operation"
            )
            body: dict[str, Any] = r.json()
            return body if body["status"] in ("succeeded", "failed", "rejected") else None

        run = await eventually(run_done, what="the load run")
        assert run["status"] == "succeeded", run

        async def person(atena: str) -> str | None:
            r = await self.call(
                "GET",
                "/api/identity/v1/persons",
                user="caseworker1",
                purpose="case_support",
                params={"atena_no": atena},
            )
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            return items[0]["id"] if items else None

        outcome.child_id = await eventually(lambda: person(CHILD[0]), what="identity to link the child")
        outcome.parent_id = await eventually(lambda: person(PARENT[0]), what="identity to link the parent")

        async def child_view() -> dict[str, Any] | None:
            r = await self.call(
                "GET",
                f"/api/risk/v1/children/{outcome.child_id}",
                user="caseworker1",
                purpose="early_detection",
                params={"month": MONTH},
            )
            # The household arrives member by member (eventually consistent): wait for the parent's arrival.
            body: dict[str, Any] = r.json() if r.status_code == 200 else {}
            return body if outcome.parent_id in body.get("parents", []) else None

        outcome.child_view = await eventually(child_view, what="risk's read model of the child and parent")

        async def known_to_casework() -> bool:
            r = await self.call(
                "GET",
                f"/api/casework/v1/persons/{outcome.child_id}/observations",
                user="caseworker1",
                purpose="case_support",
            )
            return r.status_code == 200

        await eventually(known_to_casework, what="casework to learn of the child")
        observation = {"category": "家庭訪問", "text": OBSERVATION_TEXT, "observed_on": "2026-04-15"}
        traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        outcome.traceparent = traceparent
        created = await self.call(
            "POST",
            f"/api/casework/v1/persons/{outcome.child_id}/observations",
            user="caseworker1",
            purpose="case_support",
            json=observation,
            headers={"traceparent": traceparent},
        )
        outcome.statuses["create"] = created.status_code
        outcome.created_observation = created.json() if created.status_code == 201 else {}
        outcome.decisions["create"] = created.headers.get("X-Mimamori-Decision", "")
        read = await self.call(
            "GET",
            f"/api/casework/v1/persons/{outcome.child_id}/observations",
            user="caseworker1",
            purpose="case_support",
        )
        outcome.statuses["read"] = read.status_code
        outcome.decisions["read"] = read.headers.get("X-Mimamori-Decision", "")
        assert "x-mimamori-decision-recorded" not in read.headers  # between casework and the gateway only
        outcome.observation = read.json()["items"][0] if read.status_code == 200 and read.json()["items"] else {}

        path = f"/api/casework/v1/persons/{outcome.child_id}/observations"
        caseworker = await self.token("caseworker1")
        header, payload, signature = caseworker.split(".")
        tampered = f"{header}.{payload[:-4]}AAAA.{signature}"
        refusals: dict[str, dict[str, Any]] = {
            "no_purpose": {"user": "caseworker1", "purpose": None},
            "purpose_for_other_roles": {"user": "caseworker1", "purpose": "criteria_design"},
            "role_without_purpose": {"user": "analyst1", "purpose": "case_support"},
            "tampered_token": {"user": None, "purpose": "case_support", "token": tampered},
            "no_token": {"user": None, "purpose": "case_support"},
        }
        if self.expired_token is not None:
            refusals["expired_token"] = {"user": None, "purpose": "case_support", "token": self.expired_token}
        for name, how in refusals.items():
            r = await self.call("GET", path, **how)
            outcome.statuses[name] = r.status_code
            outcome.codes[name] = r.json().get("code", "")
            assert r.headers["content-type"].startswith("application/problem+json"), name

        expected_denials = len(refusals)

        async def audited() -> list[dict[str, Any]] | None:
            r = await self.call(
                "GET", "/api/audit/v1/entries", user="auditor1", purpose="audit_disclosure", params={"limit": 500}
            )
            assert r.status_code == 200, r.text
            items: list[dict[str, Any]] = r.json()["items"]
            denied = [e for e in items if e["outcome"] in ("denied", "OUTCOME_DENIED")]
            created = [e for e in items if e["recorder"] == "casework" and e["action"] == "create"]
            read = [e for e in items if e["decision_id"] == outcome.decisions["read"] and e["action"] == "read"]
            return items if len(denied) >= expected_denials and created and read else None

        outcome.audit_entries = await eventually(audited, what="the audit ledger to hold every decision")
        verify = await self.call("GET", "/api/audit/v1/verify", user="auditor1", purpose="audit_disclosure")
        assert verify.status_code == 200, verify.text
        outcome.verification = verify.json()
        return outcome


@pytest.fixture
def slice_scenario() -> type[Slice]:
    """The scenario class (a fixture, so both deployments' tests share it)."""
    return Slice
