"""Delivered bytes, kept as they came under their SHA-256 (content-addressed: equal bytes are kept once)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

WRITE_BUFFER = 1 << 20


class TooLarge(Exception):
    """The body exceeded the size limit; nothing was kept."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """Bytes now in the store."""

    sha256: str
    size: int


class FileStore:
    """A directory of delivered files named by their SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the bytes with this digest are kept."""
        return self.root / sha256

    async def receive(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredFile:
        """Stream a body to disk while hashing it; TooLarge (and nothing kept) beyond max_bytes."""
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        incoming = self.root / f".incoming-{uuid.uuid4().hex}"
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        stream: BinaryIO = await asyncio.to_thread(incoming.open, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge()
                buffer += chunk
                if len(buffer) >= WRITE_BUFFER:
                    await asyncio.to_thread(_write, stream, digest, bytes(buffer))
                    buffer.clear()
            await asyncio.to_thread(_write, stream, digest, bytes(buffer))
            await asyncio.to_thread(_close, stream)
        except BaseException:
            await asyncio.to_thread(stream.close)
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(incoming.unlink)
            raise
        sha256 = digest.hexdigest()
        await asyncio.to_thread(_settle, incoming, self.path(sha256))
        return StoredFile(sha256=sha256, size=size)


def _write(stream: BinaryIO, digest: hashlib._Hash, data: bytes) -> None:
    digest.update(data)
    stream.write(data)


def _close(stream: BinaryIO) -> None:
    stream.flush()
    os.fsync(stream.fileno())
    stream.close()


def _settle(incoming: Path, final: Path) -> None:
    if final.exists():
        incoming.unlink()  # the same bytes were delivered before
    else:
        os.replace(incoming, final)


async def file_chunks(path: Path, *, size: int = WRITE_BUFFER) -> AsyncIterator[bytes]:
    """A local file as chunks, read off the event loop (for the CLI and the demo town)."""
    stream = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(stream.read, size):
            yield chunk
    finally:
        await asyncio.to_thread(stream.close)
