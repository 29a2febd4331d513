"""Source records and how a delivery changes them: added, changed, unchanged, or (full snapshots) removed."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha1, sha256
from typing import Final

from mimamori.ingest.domain.layout import Layout

# Fixed forever: record keys derived from it are what consumers key their state by.
RECORD_KEY_NAMESPACE = uuid.UUID("6f1c1b52-8c0e-4f5e-9a53-3d1f4f0b7a11")
_NAMESPACE_BYTES = RECORD_KEY_NAMESPACE.bytes
_DOCUMENT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class Change(enum.StrEnum):
    """What a delivery did to one record compared with the last accepted delivery of its source."""

    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Previous:
    """What the last accepted state says about a record."""

    digest: str
    removed: bool


# A record as the hot loop of a load carries it: a plain tuple (a million of them per file), fields by position.
Record = tuple[int, Sequence[str], str, str, str, str]
ROW: Final = 0
VALUES: Final = 1
NATURAL_KEY: Final = 2
RECORD_KEY: Final = 3
DOCUMENT: Final = 4
DIGEST: Final = 5


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One valid row: its values exactly as given, its identity within the source, and where it came from."""

    row: int
    values: tuple[str, ...]
    natural_key: str
    record_key: str
    document: str  # the values as compact JSON, in layout column order
    digest: str  # SHA-256 of `document`: equal digests mean an unchanged record

    @classmethod
    def of(
        cls, layout: Layout, *, municipality: str, row: int, values: Sequence[str], natural: str | None = None
    ) -> SourceRecord:
        """The record of a row that passed the layout's checks (`natural` overrides the key, e.g. numbered)."""
        if natural is None:
            natural = natural_key(layout, values)
        record = RecordMaker(layout, municipality=municipality)(row, values, natural)
        return cls(
            row=row,
            values=tuple(values),
            natural_key=natural,
            record_key=record[RECORD_KEY],
            document=record[DOCUMENT],
            digest=record[DIGEST],
        )

    def free_texts(self, layout: Layout) -> dict[str, str]:
        """The record's non-empty free text by column name (概要, 主訴 …)."""
        return free_texts(layout, self.values)


class RecordMaker:
    """Makes the records of one layout and municipality as tuples (see `Record`): what SourceRecord.of computes,
    with the per-file parts (the record-key prefix) worked out once."""

    def __init__(self, layout: Layout, *, municipality: str) -> None:
        self._free = layout.free_text_positions
        self._keys = _KeyHasher(municipality=municipality, source=layout.source)
        self._encode = _DOCUMENT.encode

    def __call__(self, row: int, values: Sequence[str], natural: str) -> Record:
        """The record of one valid row whose natural key is `natural`."""
        if self._free:
            # Free text is kept apart (its own table, served on request); the document that events are rebuilt
            # from holds none, but the digest covers it, so a corrected note is a change.
            kept = list(values)
            texts = []
            for i in self._free:
                texts.append(kept[i])
                kept[i] = ""
            document = self._encode(kept)
            digested = document + "\x00" + self._encode(texts)
        else:
            document = digested = self._encode(values if isinstance(values, list) else list(values))
        return (row, values, natural, self._keys(natural), document, sha256(digested.encode()).hexdigest())


def free_texts(layout: Layout, values: Sequence[str]) -> dict[str, str]:
    """A row's non-empty free text by column name (概要, 主訴 …)."""
    return {layout.columns[i].name: values[i] for i in layout.free_text_positions if values[i]}


def natural_key(layout: Layout, values: Sequence[str]) -> str:
    """The key columns' values joined (for jumin: the 宛名番号); dates and numbers in their parsed form."""
    if not layout.key_parsed:
        positions = layout.key_positions
        return values[positions[0]] if len(positions) == 1 else "|".join(values[i] for i in positions)
    columns = layout.columns
    return "|".join(columns[i].type.parse(values[i]) or values[i] for i in layout.key_positions)


def record_key(*, municipality: str, source: str, natural: str) -> str:
    """Stable per (municipality, source, key) and opaque: it is the event key, so no 宛名番号 in clear.

    A UUIDv5 (RFC 4122) of `municipality/source/key`, computed without the uuid module's per-call objects."""
    return _KeyHasher(municipality=municipality, source=source)(natural)


class _KeyHasher:
    """record_key for one (municipality, source): the SHA-1 of the namespace and prefix is taken once."""

    def __init__(self, *, municipality: str, source: str) -> None:
        self._prefix = sha1(_NAMESPACE_BYTES + f"{municipality}/{source}/".encode())

    def __call__(self, natural: str) -> str:
        hasher = self._prefix.copy()
        hasher.update(natural.encode())
        # version 5 in the high nibble of byte 6, the RFC 4122 variant in the top bits of byte 8
        n = (int.from_bytes(hasher.digest()[:16]) & _UUID_CLEAR) | _UUID_SET
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID_CLEAR = ~((0xF0 << 72) | (0xC0 << 56)) & ((1 << 128) - 1)
_UUID_SET = (0x50 << 72) | (0x80 << 56)


def classify(previous: Previous | None, digest: str) -> Change:
    """ADDED when unknown (or removed before), CHANGED when the values differ, else UNCHANGED."""
    if previous is None or previous.removed:
        return Change.ADDED
    return Change.UNCHANGED if previous.digest == digest else Change.CHANGED


@dataclass(slots=True)
class LoadCounts:
    """The tally of one load run."""

    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    quarantined: int = 0

    def count(self, change: Change) -> None:
        """One more record with this change."""
        if change is Change.ADDED:
            self.added += 1
        elif change is Change.CHANGED:
            self.changed += 1
        elif change is Change.UNCHANGED:
            self.unchanged += 1
        else:
            self.removed += 1

    def merge(self, other: LoadCounts) -> None:
        """Add another tally (of a batch) to this one."""
        self.rows += other.rows
        self.added += other.added
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.removed += other.removed
        self.quarantined += other.quarantined

    def as_dict(self) -> dict[str, int]:
        """The counts as columns of the load run."""
        return {
            "rows": self.rows,
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "quarantined": self.quarantined,
        }
