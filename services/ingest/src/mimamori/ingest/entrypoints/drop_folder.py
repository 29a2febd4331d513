"""A watched drop folder: the departments' systems (or staff) put `<source>_<YYYYMM>.<ext>` files there and each is
loaded like an upload. Polled, not inotify: municipal file shares (SMB/NFS) do not deliver change notifications.

A file is taken once it has stopped changing (same size and modification time on two scans), so a copy still under
way is never read half-written. Taken files move to `processed/` (prefixed with the load run id); files whose name
names no layout move to `rejected/` with a `.reason.txt` beside them (the Japanese message; no file content). The
delivered bytes themselves are kept by the file store like any upload, with their SHA-256."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from mimamori.ingest.domain.delivery import FileNameRejected

log = logging.getLogger("mimamori.ingest.drop_folder")

PROCESSED, REJECTED = "processed", "rejected"


class DropFolder:
    """Scans `directory` every `poll_seconds` and hands each settled file to `deliver` (which returns a run id)."""

    def __init__(
        self, directory: Path, *, deliver: Callable[[Path], Awaitable[str]], poll_seconds: float = 5.0
    ) -> None:
        self.directory = directory
        self._deliver = deliver
        self._poll = poll_seconds
        self._seen: dict[str, tuple[int, int]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching."""
        for sub in (PROCESSED, REJECTED):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._run(), name="ingest:drop-folder")

    async def stop(self) -> None:
        """Stop watching (a file half-handled stays where it is and is taken at the next start)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.scan()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a share that went away: try again at the next scan
                log.warning("drop folder scan failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(self._poll)

    async def scan(self) -> list[str]:
        """One pass: deliver every file that has settled since the last pass; the run ids started."""
        started: list[str] = []
        current: dict[str, tuple[int, int]] = {}
        for path in sorted(await asyncio.to_thread(lambda: list(self.directory.iterdir()))):
            if not path.is_file() or path.name.startswith("."):
                continue
            stat = path.stat()
            signature = (stat.st_size, stat.st_mtime_ns)
            if self._seen.get(path.name) != signature:
                current[path.name] = signature  # new or still changing: look again next time
                continue
            try:
                run_id = await self._deliver(path)
            except FileNameRejected as rejected:
                await asyncio.to_thread(self._move, path, REJECTED, path.name)
                (self.directory / REJECTED / f"{path.name}.reason.txt").write_text(
                    rejected.message + "\n", encoding="utf-8"
                )
                log.info("drop folder file rejected", extra={"reason": rejected.code})
                continue
            await asyncio.to_thread(self._move, path, PROCESSED, f"{run_id}_{path.name}")
            log.info("drop folder file queued", extra={"run_id": run_id})
            started.append(run_id)
        self._seen = current
        return started

    def _move(self, path: Path, sub: str, name: str) -> None:
        shutil.move(str(path), str(self.directory / sub / name))
