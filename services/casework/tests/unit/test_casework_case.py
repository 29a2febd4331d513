from datetime import UTC, datetime, timedelta

import pytest

from mimamori.casework.domain.case import (
    TRANSITIONS,
    Case,
    CaseRejected,
    CaseStatus,
    DeclineReason,
    Difficulty,
    Origin,
)

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
ALL_PATHS = {
    CaseStatus.TRIAGE: [],
    CaseStatus.ACCEPTED: [CaseStatus.ACCEPTED],
    CaseStatus.CONFERENCE: [CaseStatus.ACCEPTED, CaseStatus.CONFERENCE],
    CaseStatus.SUPPORT: [CaseStatus.ACCEPTED, CaseStatus.CONFERENCE, CaseStatus.SUPPORT],
    CaseStatus.CLOSED: [CaseStatus.ACCEPTED, CaseStatus.CONFERENCE, CaseStatus.SUPPORT, CaseStatus.CLOSED],
    CaseStatus.DECLINED: [CaseStatus.DECLINED],
}
ALLOWED = {
    (CaseStatus.TRIAGE, CaseStatus.ACCEPTED),
    (CaseStatus.TRIAGE, CaseStatus.DECLINED),
    (CaseStatus.ACCEPTED, CaseStatus.CONFERENCE),
    (CaseStatus.ACCEPTED, CaseStatus.CLOSED),
    (CaseStatus.CONFERENCE, CaseStatus.SUPPORT),
    (CaseStatus.CONFERENCE, CaseStatus.CLOSED),
    (CaseStatus.SUPPORT, CaseStatus.CLOSED),
}


def opened() -> Case:
    return Case.open(
        person_id="p1",
        difficulties=[Difficulty.YOUNG_CARER, Difficulty.POVERTY, Difficulty.YOUNG_CARER],
        by="staff-1",
        at=T0,
        origin=Origin(rule_id="young_carer", rule_version=1, month="202610"),
        note="ネットワーク会議で検討",
    )


def case_in(status: CaseStatus) -> Case:
    case = opened()
    for n, step in enumerate(ALL_PATHS[status], start=1):
        reason = DeclineReason.NO_CONCERN if step is CaseStatus.DECLINED else None
        level = 2 if step is CaseStatus.ACCEPTED else None
        case.transition(step, by="staff-2", at=T0 + timedelta(days=n), reason=reason, risk_level=level)
    assert case.status is status
    return case


def test_a_new_case_is_in_triage_with_its_types_deduplicated_and_one_history_step() -> None:
    case = opened()
    assert case.status is CaseStatus.TRIAGE and case.is_open
    assert case.difficulties == (Difficulty.POVERTY, Difficulty.YOUNG_CARER)
    assert case.risk_level is None and case.version == 1
    assert [(h.from_status, h.to_status, h.by, h.note) for h in case.history] == [
        (None, CaseStatus.TRIAGE, "staff-1", "ネットワーク会議で検討")
    ]


def test_a_case_needs_a_difficulty_type_and_a_sound_origin() -> None:
    with pytest.raises(CaseRejected) as none:
        Case.open(person_id="p1", difficulties=[], by="s", at=T0)
    with pytest.raises(CaseRejected) as month:
        Origin(rule_id="abuse", rule_version=1, month="202613")
    with pytest.raises(CaseRejected) as version:
        Origin(rule_id="abuse", rule_version=0, month="202612")
    assert (none.value.code, month.value.code, version.value.code) == (
        "difficulty_required",
        "origin_month_invalid",
        "origin_rule_invalid",
    )


def test_the_whole_lifecycle_keeps_its_history_and_raises_the_version_each_step() -> None:
    case = case_in(CaseStatus.CLOSED)
    assert [(h.from_status, h.to_status) for h in case.history] == [
        (None, CaseStatus.TRIAGE),
        (CaseStatus.TRIAGE, CaseStatus.ACCEPTED),
        (CaseStatus.ACCEPTED, CaseStatus.CONFERENCE),
        (CaseStatus.CONFERENCE, CaseStatus.SUPPORT),
        (CaseStatus.SUPPORT, CaseStatus.CLOSED),
    ]
    assert [h.at for h in case.history] == sorted(h.at for h in case.history)
    assert case.version == 5 and case.risk_level == 2 and not case.is_open


def test_the_transition_table_is_the_documented_lifecycle() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


@pytest.mark.parametrize(("start", "to"), [(a, b) for a in CaseStatus for b in CaseStatus if (a, b) not in ALLOWED])
def test_every_transition_outside_the_lifecycle_is_refused_and_changes_nothing(
    start: CaseStatus, to: CaseStatus
) -> None:
    case = case_in(start)
    before = (case.status, case.version, list(case.history))
    with pytest.raises(CaseRejected) as refused:
        case.transition(
            to, by="s", at=T0, risk_level=1, reason=DeclineReason.OTHER if to is CaseStatus.DECLINED else None
        )
    expected = "case_closed" if start in (CaseStatus.CLOSED, CaseStatus.DECLINED) else "transition_not_allowed"
    assert refused.value.code == expected
    assert (case.status, case.version, case.history) == before


def test_accepting_needs_a_risk_level_given_or_set_before() -> None:
    case = opened()
    with pytest.raises(CaseRejected) as refused:
        case.transition(CaseStatus.ACCEPTED, by="s", at=T0)
    assert refused.value.code == "risk_level_required" and case.status is CaseStatus.TRIAGE
    case.set_risk_level(3)
    case.transition(CaseStatus.ACCEPTED, by="s", at=T0)
    assert (case.status, case.risk_level) == (CaseStatus.ACCEPTED, 3)


def test_declining_needs_a_reason_and_only_declining_takes_one() -> None:
    case = opened()
    with pytest.raises(CaseRejected) as missing:
        case.transition(CaseStatus.DECLINED, by="s", at=T0)
    with pytest.raises(CaseRejected) as misplaced:
        case.transition(CaseStatus.ACCEPTED, by="s", at=T0, risk_level=1, reason=DeclineReason.OTHER)
    assert (missing.value.code, misplaced.value.code) == ("decline_reason_required", "reason_only_when_declined")
    case.transition(CaseStatus.DECLINED, by="s", at=T0, reason=DeclineReason.ALREADY_SUPPORTED)
    assert (case.status, case.decline_reason, case.is_open) == (
        CaseStatus.DECLINED,
        DeclineReason.ALREADY_SUPPORTED,
        False,
    )


@pytest.mark.parametrize("level", [0, 5, -1])
def test_a_risk_level_outside_1_to_4_is_refused(level: int) -> None:
    case = opened()
    with pytest.raises(CaseRejected) as refused:
        case.set_risk_level(level)
    with pytest.raises(CaseRejected) as on_accept:
        case.transition(CaseStatus.ACCEPTED, by="s", at=T0, risk_level=level)
    assert refused.value.code == on_accept.value.code == "risk_level_invalid"
    assert (case.risk_level, case.status) == (None, CaseStatus.TRIAGE)


def test_a_closed_or_declined_case_takes_no_more_changes() -> None:
    for status in (CaseStatus.CLOSED, CaseStatus.DECLINED):
        case = case_in(status)
        for change in (lambda c: c.set_risk_level(1), lambda c: c.assign(["staff-9"])):
            with pytest.raises(CaseRejected) as refused:
                change(case)
            assert refused.value.code == "case_closed"


def test_assignees_are_deduplicated_bounded_and_only_a_real_change_raises_the_version() -> None:
    case = opened()
    case.assign(["staff-1", " staff-2 ", "staff-1"])
    assert case.assignees == ("staff-1", "staff-2") and case.version == 2
    case.assign(["staff-1", "staff-2"])
    assert case.version == 2
    for subjects, code in ((["", "x"], "assignee_invalid"), ([f"s{i}" for i in range(21)], "too_many_assignees")):
        with pytest.raises(CaseRejected) as refused:
            case.assign(subjects)
        assert refused.value.code == code
    assert case.assignees == ("staff-1", "staff-2")


def test_a_note_over_the_limit_is_refused() -> None:
    case = opened()
    with pytest.raises(CaseRejected) as refused:
        case.transition(CaseStatus.ACCEPTED, by="s", at=T0, risk_level=1, note="あ" * 1001)
    assert refused.value.code == "note_too_long" and case.status is CaseStatus.TRIAGE


def test_coordinators_assignees_and_break_glass_may_work_on_a_case_others_may_not() -> None:
    case = opened()
    case.assign(["nurse-1"])
    assert case.visible_to(subject="anyone", roles=["caseworker"])
    assert case.visible_to(subject="lead", roles=["team_leader"])
    assert case.visible_to(subject="nurse-1", roles=["public_health_nurse"])
    assert not case.visible_to(subject="nurse-2", roles=["public_health_nurse"])
    assert case.visible_to(subject="nurse-2", roles=["public_health_nurse"], break_glass=True)


def test_a_case_opened_with_assignees_starts_at_version_1_and_refuses_bad_ones() -> None:
    case = Case.open(person_id="p1", difficulties=[Difficulty.ABUSE], by="s", at=T0, assignees=["nurse-1", "nurse-1"])
    assert (case.assignees, case.version) == (("nurse-1",), 1)
    with pytest.raises(CaseRejected) as refused:
        Case.open(person_id="p1", difficulties=[Difficulty.ABUSE], by="s", at=T0, assignees=[" "])
    assert refused.value.code == "assignee_invalid"
