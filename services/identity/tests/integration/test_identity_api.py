"""identity's API: search, the person view, the DV rule, purposes and roles, and the audit of every read."""

from __future__ import annotations

from typing import Any

import pytest

from mimamori.events.audit.v1 import access_pb2

pytestmark = pytest.mark.integration

HOME = "2000000001"


async def three_generations(identity: Any) -> dict[str, str]:
    """祖母 as 世帯主, her 子 (a single mother) and two 孫; returns person ids by role."""
    rows = {
        "grandma": identity.row_of("0000000101", setai_code=HOME, zokugara="世帯主", sex="2", birth="19580301"),
        "mother": identity.row_of(
            "0000000102",
            setai_code=HOME,
            zokugara="子",
            sex="2",
            birth="19880401",
            name="開成　花子",
            kana="ｶｲｾｲ ﾊﾅｺ",
        ),
        "elder": identity.row_of(
            "0000000103",
            setai_code=HOME,
            zokugara="孫",
            birth="20140510",
            name="開成　一郎",
            kana="ｶｲｾｲ ｲﾁﾛｳ",
        ),
        "younger": identity.row_of(
            "0000000104", setai_code=HOME, zokugara="孫", birth="20190820", name="開成　二郎", kana="ｶｲｾｲ ｼﾞﾛｳ"
        ),
    }
    await identity.feed(*rows.values())
    return {role: await identity.person_id(row.atena_no) for role, row in rows.items()}


def audits(identity: Any) -> list[access_pb2.AccessRecorded]:
    return [m for m in identity.events("audit.access.v1") if isinstance(m, access_pb2.AccessRecorded)]


async def test_person_view_shows_household_relationships_provenance_and_is_audited(identity: Any) -> None:
    ids = await three_generations(identity)
    async with identity.client() as http:
        response = await http.get(f"/v1/persons/{ids['elder']}", headers=identity.headers())
    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["atena_no"], view["name"], view["name_kana"], view["sex"]) == (
        "0000000103",
        "開成　一郎",
        "ｶｲｾｲ ｲﾁﾛｳ",
        "1",
    )
    assert view["birth_date"] == {"raw": "20140510", "iso": "2014-05-10"}
    assert view["resident_status"] == "住民" and view["address"].startswith("神奈川県") and not view["address_hidden"]
    [jumin] = view["sources"]
    record = jumin["records"][0]
    assert jumin["source"] == "jumin" and (record["grade"], record["reason"]) == ("certain", "atena_no")
    assert (record["provenance"]["file_name"], record["provenance"]["row"]) == ("jumin_202604.csv", 3)
    household = view["household"]
    assert household["setai_code"] == HOME and household["version"] == 4
    assert sorted(m["person_id"] for m in household["members"]) == sorted(ids.values())
    assert household["parents"] == [ids["mother"]] and household["single_parent"] is True
    relations = {(r["person_id"], r["kind"], r["relative_id"]) for r in household["relationships"]}
    assert (ids["elder"], "parent", ids["mother"]) in relations
    assert (ids["elder"], "sibling", ids["younger"]) in relations
    assert (ids["elder"], "grandparent", ids["grandma"]) in relations
    assert [h["setai_code"] for h in view["household_history"]] == [HOME]
    await identity.runtime.wait_idle()
    [audit] = audits(identity)
    assert (audit.recorder, audit.action, audit.route, audit.purpose) == (
        "identity",
        "read",
        "/v1/persons/{person_id}",
        "case_support",
    )
    assert sorted(audit.person_ids) == sorted(ids.values())


async def test_search_by_atena_no_and_by_kana_in_any_form_with_birth_date(identity: Any) -> None:
    ids = await three_generations(identity)
    async with identity.client() as http:
        by_atena = await http.get("/v1/persons", params={"atena_no": "0000000102"}, headers=identity.headers())
        by_kana = await http.get(
            "/v1/persons",
            params={"name_kana": "かいせい　はなこ", "birth_date": "1988-04-01"},
            headers=identity.headers(),
        )
        wrong_birth = await http.get(
            "/v1/persons",
            params={"name_kana": "ｶｲｾｲﾊﾅｺ", "birth_date": "1988-04-02"},
            headers=identity.headers(),
        )
        unknown = await http.get("/v1/persons", params={"atena_no": "0000009999"}, headers=identity.headers())
    assert [p["id"] for p in by_atena.json()["items"]] == [ids["mother"]]
    assert [p["id"] for p in by_kana.json()["items"]] == [ids["mother"]]
    assert "address" not in by_kana.json()["items"][0]
    assert wrong_birth.json()["items"] == [] and unknown.json()["items"] == []
    await identity.runtime.wait_idle()
    assert [(a.action, list(a.person_ids)) for a in audits(identity)] == [
        ("search", [ids["mother"]]),
        ("search", [ids["mother"]]),
        ("search", []),
        ("search", []),
    ]


@pytest.mark.parametrize("purpose", ["early_detection", "eligibility_check"])
async def test_address_under_support_measure_is_hidden_unless_for_case_support(identity: Any, purpose: str) -> None:
    row = identity.row_of("0000000201", setai_code=HOME, zokugara="世帯主", sex="2", address="秘匿の住所", dv=True)
    await identity.feed(row)
    person = await identity.person_id("0000000201")
    async with identity.client() as http:
        response = await http.get(f"/v1/persons/{person}", headers=identity.headers(purpose=purpose))
        support = await http.get(f"/v1/persons/{person}", headers=identity.headers(purpose="case_support"))
    view = response.json()
    assert response.status_code == 200
    assert view["address"] is None and view["address_hidden"] is True
    assert all(r["address"] is None for g in view["sources"] for r in g["records"])
    assert "秘匿の住所" not in response.text
    assert support.json()["address"] == "秘匿の住所" and support.json()["address_hidden"] is False


async def test_routes_refuse_other_purposes_and_roles_and_unknown_persons(identity: Any) -> None:
    ids = await three_generations(identity)
    path = f"/v1/persons/{ids['elder']}"
    async with identity.client() as http:
        statistics = await http.get(path, headers=identity.headers(purpose="policy_statistics"))
        contractor = await http.get(path, headers=identity.headers(roles=("contractor_analyst",)))
        nurse = await http.get(
            path, headers=identity.headers(purpose="early_detection", roles=("public_health_nurse",))
        )
        missing = await http.get("/v1/persons/00000000-0000-0000-0000-000000000000", headers=identity.headers())
        no_criteria = await http.get("/v1/persons", headers=identity.headers())
        kana_only = await http.get("/v1/persons", params={"name_kana": "ｶｲｾｲ"}, headers=identity.headers())
        bad_atena = await http.get("/v1/persons", params={"atena_no": "12"}, headers=identity.headers())
        no_context = await http.get(path)
    assert (statistics.status_code, statistics.json()["code"]) == (403, "purpose_not_allowed")
    assert (contractor.status_code, contractor.json()["code"]) == (403, "role_not_allowed")
    assert nurse.status_code == 200
    assert (missing.status_code, missing.json()["code"]) == (404, "person_not_found")
    assert (no_criteria.status_code, no_criteria.json()["code"]) == (422, "search_criteria_missing")
    assert (kana_only.status_code, kana_only.json()["code"]) == (422, "search_criteria_missing")
    assert (bad_atena.status_code, bad_atena.json()["code"]) == (422, "validation_error")
    assert (no_context.status_code, no_context.json()["code"]) == (401, "missing_internal_context")
