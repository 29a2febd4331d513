"""What audit's routes share: the unit of work, the checkpoint key, who may ask, the filters and paging."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from mimamori.audit.adapters.signing import CheckpointKey
from mimamori.audit.config import AuditSettings
from mimamori.audit.domain.ledger import EntryQuery
from mimamori.audit.service_layer.unit_of_work import AuditUnitOfWork
from mimamori.kit.auth import AccessContext, require

AUDIT_PURPOSES = ("audit_disclosure",)
AUDIT_ROLES = ("auditor",)
# Checkpoints hold no personal data: operators may sign and fetch them too.
CHECKPOINT_PURPOSES = ("audit_disclosure", "system_operation")
CHECKPOINT_ROLES = ("auditor", "sysadmin")
PAGE_MAX = 500

Auditor = Annotated[AccessContext, Depends(require(purposes=AUDIT_PURPOSES, roles=AUDIT_ROLES))]
CheckpointUser = Annotated[AccessContext, Depends(require(purposes=CHECKPOINT_PURPOSES, roles=CHECKPOINT_ROLES))]


def unit_of_work(request: Request) -> AuditUnitOfWork:
    """A fresh unit of work from the service's bootstrap."""
    uow: AuditUnitOfWork = request.app.state.uow_factory()
    return uow


def checkpoint_key(request: Request) -> CheckpointKey:
    """The key that signs (and opens) checkpoints."""
    key: CheckpointKey = request.app.state.checkpoint_key
    return key


def audit_settings(request: Request) -> AuditSettings:
    """audit's settings, as bootstrap read them."""
    settings: AuditSettings = request.app.state.audit_settings
    return settings


def scope_query(
    since: Annotated[datetime | None, Query(description="この時刻以降 (RFC 3339; オフセットなしはUTC)")] = None,
    until: Annotated[datetime | None, Query(description="この時刻より前")] = None,
    purpose: Annotated[str | None, Query(max_length=60, description="利用目的コード")] = None,
    outcome: Annotated[Literal["allowed", "denied", "error"] | None, Query()] = None,
    recorder: Annotated[str | None, Query(max_length=100, description="記録したサービス (gateway, casework …)")] = None,
) -> EntryQuery:
    """The filters of a ledger query, but the actor (which a route may name in its path)."""
    return EntryQuery(since=since, until=until, purpose=purpose, outcome=outcome, recorder=recorder)


ScopeDep = Annotated[EntryQuery, Depends(scope_query)]


def entry_query(
    scope: ScopeDep,
    actor: Annotated[str | None, Query(max_length=200, description="職員のアカウントID")] = None,
) -> EntryQuery:
    """The filters of a ledger query."""
    return replace(scope, actor=actor)


UowDep = Annotated[AuditUnitOfWork, Depends(unit_of_work)]
KeyDep = Annotated[CheckpointKey, Depends(checkpoint_key)]
SettingsDep = Annotated[AuditSettings, Depends(audit_settings)]
QueryDep = Annotated[EntryQuery, Depends(entry_query)]
AfterSeq = Annotated[int, Query(ge=0, description="このseqより後から (前ページの next_after_seq)")]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX)]
