"""児童相談 cases: a child taken up from the candidate review (庁内ネットワーク会議) through 受理, カンファレンス and
support to 終結 (or 見送り at triage). Risk levels 1–4 (図表9) are decided by staff."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

MAX_NOTE = 1000
MAX_ASSIGNEES = 20
MAX_SUBJECT = 200
RISK_LEVELS = (1, 2, 3, 4)
# 子ども家庭総合支援拠点 staff run the review and coordinate every case; others work on the cases assigned to them.
COORDINATORS = frozenset({"caseworker", "team_leader"})


class Difficulty(enum.StrEnum):
    """困難の類型, by the ids of risk's rules."""

    YOUNG_CARER = "young_carer"  # ヤングケアラー
    POVERTY = "poverty"  # 貧困
    ABUSE = "abuse"  # 虐待
    TRUANCY = "truancy"  # 不登校・引きこもり
    POSTPARTUM = "postpartum"  # 産後うつ
    DEVELOPMENT = "development"  # 発達障がい


class CaseStatus(enum.StrEnum):
    """Where a case stands."""

    TRIAGE = "triage"  # 検討中
    ACCEPTED = "accepted"  # 受理
    CONFERENCE = "conference"  # カンファレンス
    SUPPORT = "support"  # 支援中
    CLOSED = "closed"  # 終結
    DECLINED = "declined"  # 見送り


class DeclineReason(enum.StrEnum):
    """Why the review did not take a child up (a code, so no free text travels)."""

    NO_CONCERN = "no_concern"  # 支援の必要を認めない
    ALREADY_SUPPORTED = "already_supported"  # 既に他の支援につながっている
    MOVED_OUT = "moved_out"  # 転出
    WATCH_ONLY = "watch_only"  # 見守りを継続 (ケースにしない)
    OTHER = "other"  # その他


TERMINAL = frozenset({CaseStatus.CLOSED, CaseStatus.DECLINED})
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.TRIAGE: frozenset({CaseStatus.ACCEPTED, CaseStatus.DECLINED}),
    CaseStatus.ACCEPTED: frozenset({CaseStatus.CONFERENCE, CaseStatus.CLOSED}),
    CaseStatus.CONFERENCE: frozenset({CaseStatus.SUPPORT, CaseStatus.CLOSED}),
    CaseStatus.SUPPORT: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
    CaseStatus.DECLINED: frozenset(),
}


class CaseRejected(ValueError):
    """A change a case refuses; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Origin:
    """The risk assessment (and alert, when one was raised) a case came from."""

    rule_id: str
    rule_version: int
    month: str  # YYYYMM
    alert_id: str = ""

    def __post_init__(self) -> None:
        if len(self.month) != 6 or not self.month.isdigit() or not 1 <= int(self.month[4:]) <= 12:
            raise CaseRejected("origin_month_invalid")
        if self.rule_version < 1 or not self.rule_id:
            raise CaseRejected("origin_rule_invalid")


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step of a case's history: who moved it, when, from where to where, and a note kept in casework."""

    from_status: CaseStatus | None
    to_status: CaseStatus
    by: str
    at: datetime
    note: str = ""


@dataclass(slots=True)
class Case:
    """One child's 児童相談 case."""

    person_id: str
    difficulties: tuple[Difficulty, ...]
    opened_by: str
    opened_at: datetime
    origin: Origin | None = None
    status: CaseStatus = CaseStatus.TRIAGE
    risk_level: int | None = None
    assignees: tuple[str, ...] = ()
    decline_reason: DeclineReason | None = None
    history: list[StatusChange] = field(default_factory=list)
    version: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def open(
        cls,
        *,
        person_id: str,
        difficulties: Iterable[Difficulty],
        by: str,
        at: datetime,
        origin: Origin | None = None,
        assignees: Iterable[str] = (),
        note: str = "",
    ) -> Case:
        """A new case in triage (検討中), with at least one difficulty type; version 1."""
        chosen = tuple(sorted(set(difficulties)))
        if not chosen:
            raise CaseRejected("difficulty_required")
        case = cls(
            person_id=person_id,
            difficulties=chosen,
            opened_by=by,
            opened_at=at,
            origin=origin,
            assignees=_assignees(assignees),
        )
        case.history.append(StatusChange(None, CaseStatus.TRIAGE, by, at, _note(note)))
        return case

    @property
    def is_open(self) -> bool:
        """Not closed and not declined."""
        return self.status not in TERMINAL

    def visible_to(self, *, subject: str, roles: Iterable[str], break_glass: bool = False) -> bool:
        """Whether this staff member may read or change the case: a coordinator, an assignee, or break-glass."""
        return break_glass or bool(COORDINATORS & set(roles)) or subject in self.assignees

    def transition(
        self,
        to: CaseStatus,
        *,
        by: str,
        at: datetime,
        note: str = "",
        reason: DeclineReason | None = None,
        risk_level: int | None = None,
    ) -> StatusChange:
        """Move the case to `to`; 受理 needs a risk level (given here or set before), 見送り needs a reason."""
        if to not in TRANSITIONS[self.status]:
            raise CaseRejected("case_closed" if self.status in TERMINAL else "transition_not_allowed")
        if reason is not None and to is not CaseStatus.DECLINED:
            raise CaseRejected("reason_only_when_declined")
        if to is CaseStatus.DECLINED and reason is None:
            raise CaseRejected("decline_reason_required")
        if risk_level is not None:
            _check_level(risk_level)
        if to is CaseStatus.ACCEPTED and risk_level is None and self.risk_level is None:
            raise CaseRejected("risk_level_required")
        change = StatusChange(self.status, to, by, at, _note(note))
        if risk_level is not None:
            self.risk_level = risk_level
        self.decline_reason = reason
        self.status = to
        self.history.append(change)
        self.version += 1
        return change

    def set_risk_level(self, level: int) -> None:
        """Staff's judgement of the level (図表9, 1–4); an accepted case keeps one, so it is changed, not removed."""
        self._still_open()
        _check_level(level)
        if level != self.risk_level:
            self.risk_level = level
            self.version += 1

    def assign(self, subjects: Iterable[str]) -> None:
        """The staff (account ids) who work on the case, replacing the previous list."""
        self._still_open()
        chosen = _assignees(subjects)
        if chosen != self.assignees:
            self.assignees = chosen
            self.version += 1

    def _still_open(self) -> None:
        if not self.is_open:
            raise CaseRejected("case_closed")


def _assignees(subjects: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(s.strip() for s in subjects))
    if any(not s or len(s) > MAX_SUBJECT for s in chosen):
        raise CaseRejected("assignee_invalid")
    if len(chosen) > MAX_ASSIGNEES:
        raise CaseRejected("too_many_assignees")
    return chosen


def _check_level(level: int) -> None:
    if level not in RISK_LEVELS:
        raise CaseRejected("risk_level_invalid")


def _note(note: str) -> str:
    stripped = note.strip()
    if len(stripped) > MAX_NOTE:
        raise CaseRejected("note_too_long")
    return stripped
