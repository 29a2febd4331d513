"""The background loader: queued runs are loaded one at a time, in the order they were queued.

One at a time keeps the per-source state consistent (two loads of one source must not diff concurrently) and
keeps SQLite's single writer free for the consumers of the embedded form."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("mimamori.ingest")


class LoadWorker:
    """A queue of run ids and the task that loads them."""

    def __init__(self, *, load: Callable[[str], Awaitable[object]]) -> None:
        self._load = load
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._outstanding: set[str] = set()
        self._finished: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None

    def submit(self, run_id: str) -> None:
        """Queue a run (once)."""
        if run_id in self._outstanding:
            return
        self._outstanding.add(run_id)
        self._finished[run_id] = asyncio.Event()
        self._queue.put_nowait(run_id)

    @property
    def pending(self) -> int:
        """Runs queued or loading in this process."""
        return len(self._outstanding)

    async def wait(self, run_id: str) -> None:
        """Until a run submitted here has ended (at once for runs this worker never saw)."""
        finished = self._finished.get(run_id)
        if finished is not None:
            await finished.wait()

    async def start(self) -> None:
        """Start loading."""
        self._task = asyncio.create_task(self._run(), name="ingest:loads")

    async def stop(self) -> None:
        """Stop; a load cut short stays `running` and is resumed at the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            run_id = await self._queue.get()
            try:
                await self._load(run_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("load crashed", extra={"run_id": run_id, "error": type(exc).__name__})
            finally:
                self._outstanding.discard(run_id)
                self._finished[run_id].set()
