"""The periodic checkpoint: sign the chain head every interval (when it moved)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from mimamori.audit.service_layer import handlers
from mimamori.audit.service_layer.unit_of_work import AuditUnitOfWork

log = logging.getLogger("mimamori.audit.checkpoints")


class CheckpointSchedule:
    """A background task that signs the head at a fixed interval."""

    def __init__(
        self, *, uow: Callable[[], AuditUnitOfWork], key: handlers.Signer, municipality: str, interval: float
    ) -> None:
        self._uow = uow
        self._key = key
        self._municipality = municipality
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start signing in the background."""
        self._task = asyncio.create_task(self._run(), name="audit:checkpoints")

    async def stop(self) -> None:
        """Stop signing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                stored = await handlers.sign_checkpoint(
                    uow=self._uow(), key=self._key, municipality=self._municipality, only_if_moved=True
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("checkpoint failed, will retry", extra={"error": type(exc).__name__})
                continue
            if stored is not None:
                log.info("checkpoint signed", extra={"seq": stored.seq, "checkpoint_id": stored.id})
