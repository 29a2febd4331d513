"""Full re-scores as background runs: consumers and routes only schedule them; a worker takes a run and scores
it household chunk by household chunk, each chunk (its assessments, alerts and the run's cursor) in one
transaction. A chunk scored twice gives the same rows and no second alert, so a run is idempotent; a worker
that dies leaves its cursor, and another takes the run over when its lease runs out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from mimamori.risk.adapters.runs import FAILED, RescoreRun
from mimamori.risk.domain.month import AssessmentMonth
from mimamori.risk.domain.rules.language import Rule
from mimamori.risk.domain.view import score_view
from mimamori.risk.service_layer import scoring
from mimamori.risk.service_layer.unit_of_work import RiskUnitOfWork

log = logging.getLogger("mimamori.risk")
RETRIES = 3


@dataclass(frozen=True)
class RunSettings:
    """How a worker takes and advances runs."""

    chunk_households: int = 2000
    settle: timedelta = timedelta(seconds=1)
    lease: timedelta = timedelta(minutes=2)
    poll_seconds: float = 0.5


async def schedule(uow: RiskUnitOfWork, *, month: str, reason: str, rules: list[tuple[str, int]] | None = None) -> str:
    """Schedule a full re-score of the month (every adopted rule unless versions are named), in the caller's
    unit of work; a pending run of the same scope is reused."""
    return await uow.runs.schedule(month=month, rules=rules or [], reason=reason)


async def _rules_of(uow: RiskUnitOfWork, run: RescoreRun) -> list[Rule]:
    if not run.rules:
        return await scoring.adopted_rules(uow)
    found = []
    for rule_id, version in run.rules:
        row = await uow.rules.get(rule_id, version)
        if row is not None:
            found.append(scoring.rule_of(row.text))
    return found


async def claim(run_id: str, *, uow: RiskUnitOfWork, settings: RunSettings) -> bool:
    """Take a run if it is still free; on its first start, note the rules whose first month it is."""
    async with uow:
        households = await uow.households.count()
        if not await uow.runs.claim(run_id, settle=settings.settle, lease=settings.lease, households=households):
            return False
        run = await uow.runs.get(run_id)
        assert run is not None
        if run.households_done == 0:
            rules = await _rules_of(uow, run)
            first = [r.id for r in rules if not await uow.assessments.any_before(rule_id=r.id, month=run.month)]
            await uow.runs.set_baseline(run_id, first)
        await uow.commit()
    return True


async def advance(run_id: str, *, uow: RiskUnitOfWork, settings: RunSettings) -> bool:
    """Score the run's next chunk of households and commit it with the cursor; False once the run is done."""
    async with uow:
        await uow.facts.lock_scoring()
        run = await uow.runs.get(run_id)
        if run is None or run.status != "running":
            return False
        month = AssessmentMonth.parse(run.month)
        rules = await _rules_of(uow, run)
        ids = await uow.households.ids_after(run.cursor, limit=settings.chunk_households)
        if not ids:
            assert run.started_at is not None
            for rule in rules:
                await uow.assessments.remove_stale(
                    rule_id=rule.id, version=rule.version, month=run.month, before=run.started_at
                )
            await uow.runs.finish(run_id)
            await uow.commit()
            log.info(
                "re-score run done",
                extra={"run_id": run_id, "month": run.month, "children": run.children, "alerts": run.alerts},
            )
            return False
        view, chunk = await uow.facts.chunk_view(month, after=run.cursor, upto=ids[-1])
        children: set[str] = set()
        alerts = 0
        for rule in rules:
            mine = scoring.at_home_in(view, chunk, view.population(rule.population))
            scored = score_view(rule, view, only=mine)
            children.update(mine)
            alerts += await scoring.store_scored(
                uow, rule=rule, month=run.month, scored=scored, alerts=rule.id not in run.baseline
            )
        moved = await uow.runs.advance(
            run, cursor=ids[-1], households=len(ids), children=len(children), alerts=alerts, lease=settings.lease
        )
        if not moved:
            log.warning("re-score run moved on by another worker", extra={"run_id": run_id})
            return False
        await uow.commit()
    return True


async def execute(run_id: str, *, factory: Callable[[], RiskUnitOfWork], settings: RunSettings) -> None:
    """Advance a claimed run to its end. A chunk that fails is tried again (it is idempotent: SQLite refuses a
    write over a snapshot another writer moved on, for one); after `RETRIES` failures in a row the run is failed
    (its cursor stays: a new request starts over, a resumed lease goes on from it)."""
    failures = 0
    while True:
        try:
            more = await advance(run_id, uow=factory(), settings=settings)
        except Exception as exc:
            failures += 1
            log.warning("re-score chunk failed", extra={"run_id": run_id, "attempt": failures})
            if failures >= RETRIES:
                log.exception("re-score run failed", extra={"run_id": run_id})
                async with factory() as uow:
                    await uow.runs.finish(run_id, status=FAILED, error=type(exc).__name__)
                    await uow.commit()
                return
            await asyncio.sleep(0.1 * failures)
            continue
        failures = 0
        if not more:
            return
        await asyncio.sleep(0)  # let requests and consumers in between chunks


class RescoreWorker:
    """The background task of one risk process that runs re-scores (any number of processes may run one)."""

    def __init__(self, *, factory: Callable[[], RiskUnitOfWork], settings: RunSettings) -> None:
        self._factory = factory
        self._settings = settings
        self._task: asyncio.Task[None] | None = None
        self._current: str | None = None

    def start(self) -> None:
        """Start polling for runs."""
        self._task = asyncio.create_task(self._loop(), name="risk-rescore-worker")

    async def stop(self) -> None:
        """Stop between two chunks (a run in progress is resumed by the next worker)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._current is not None:
            async with self._factory() as uow:
                await uow.runs.release(self._current)
                await uow.commit()
            self._current = None

    async def _loop(self) -> None:
        while True:
            try:
                async with self._factory() as uow:
                    free = await uow.runs.claimable(settle=self._settings.settle)
                for run_id in free:
                    if await claim(run_id, uow=self._factory(), settings=self._settings):
                        self._current = run_id
                        await execute(run_id, factory=self._factory, settings=self._settings)
                        self._current = None
            except Exception:
                log.exception("re-score worker cycle failed")
            await asyncio.sleep(self._settings.poll_seconds)
