from mimamori.events.casework.v1 import case_pb2
from mimamori.events.identity.v1 import person_pb2
from mimamori.risk.adapters.events import case_status_from_event
from mimamori.risk.domain.cases import CaseStatus, open_cases


def test_only_a_newer_version_replaces_the_stored_one() -> None:
    case = CaseStatus("c1", "p1", "accepted", 3)
    assert case.replaces(None) and case.replaces(2)
    assert not case.replaces(3) and not case.replaces(4)


def test_closed_and_declined_cases_are_not_open_and_merged_persons_count_for_the_survivor() -> None:
    cases = [
        CaseStatus("c1", "p1", "closed", 5),
        CaseStatus("c2", "p2", "declined", 2),
        CaseStatus("c3", "p3", "triage", 1),
        CaseStatus("c4", "old", "support", 4),  # merged into p3: the further along of the two is shown
        CaseStatus("c5", "p5", "conference", 3),
    ]
    assert open_cases(cases, aliases={"old": "p3"}) == {"p3": "support", "p5": "conference"}
    assert open_cases(cases, aliases={}) == {"p3": "triage", "old": "support", "p5": "conference"}


def test_case_events_map_to_a_status_and_other_messages_to_none() -> None:
    opened = case_pb2.CaseOpened(case_id="c1", person_id="p1", status=case_pb2.CASE_STATUS_TRIAGE, version=1)
    closed = case_pb2.CaseStatusChanged(
        case_id="c1", person_id="p1", status=case_pb2.CASE_STATUS_CLOSED, previous_status=2, version=5
    )
    assert case_status_from_event(opened) == CaseStatus("c1", "p1", "triage", 1)
    assert case_status_from_event(closed) == CaseStatus("c1", "p1", "closed", 5)
    assert case_status_from_event(case_pb2.CaseOpened(case_id="c1", person_id="p1")) is None  # unspecified status
    assert case_status_from_event(person_pb2.PersonLinked(person_id="p1")) is None
