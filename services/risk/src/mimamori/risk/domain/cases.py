"""What risk knows of casework's cases: each case's latest status, so a candidate list can tell who is already a
case. Pure: the newest version of a case wins, and a person's open case is the most advanced of theirs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Open statuses in the order a case moves through them; closed and declined cases are not open.
OPEN_STATUSES = ("triage", "accepted", "conference", "support")
STATUSES = (*OPEN_STATUSES, "closed", "declined")


@dataclass(frozen=True, slots=True)
class CaseStatus:
    """One case as casework last announced it."""

    case_id: str
    person_id: str
    status: str
    version: int

    def replaces(self, stored_version: int | None) -> bool:
        """Whether this announcement is newer than the one stored (a redelivered or older one changes nothing)."""
        return stored_version is None or self.version > stored_version


def open_cases(cases: Iterable[CaseStatus], *, aliases: dict[str, str]) -> dict[str, str]:
    """Person → status of their open case, each person read through merges (a case of a merged person counts for
    the surviving one); when a merge leaves two open cases, the further along is shown."""
    found: dict[str, str] = {}
    for case in cases:
        if case.status not in OPEN_STATUSES:
            continue
        person = aliases.get(case.person_id, case.person_id)
        held = found.get(person)
        if held is None or OPEN_STATUSES.index(case.status) > OPEN_STATUSES.index(held):
            found[person] = case.status
    return found
