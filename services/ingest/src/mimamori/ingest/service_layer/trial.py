"""A load that writes nothing: what a file would become under a layout (records, events, quarantine, or the
structural error that rejects it). `mimamori adapters try`, the conformance kit and the fuzz test use it; it runs
the very reader, hooks, checks and mappers a real load runs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from google.protobuf.message import Message

from mimamori.ingest.adapters.csv_reader import check_structure
from mimamori.ingest.adapters.events import Provenance, RecordMapper, mapper_for
from mimamori.ingest.domain.delivery import DeliveredFile, LoadRun, RunStatus, StructuralError
from mimamori.ingest.domain.layout import Layout
from mimamori.ingest.domain.records import DIGEST, DOCUMENT, NATURAL_KEY, RECORD_KEY, ROW, VALUES, Change, SourceRecord
from mimamori.ingest.service_layer.handlers import Preparation, rows_of, settle_repeats

TRIAL_RUN = "trial"
_MONTH = re.compile(r"_(\d{6})\.[A-Za-z0-9]+$")


@dataclass(slots=True)
class Trial:
    """What loading a file into an empty store would do."""

    file_name: str
    total: int = 0  # data rows
    records: list[SourceRecord] = field(default_factory=list)
    events: list[Message] = field(default_factory=list)  # one per record, ADDED (the store is empty)
    problems: list[dict[str, Any]] = field(default_factory=list)  # quarantine rows: row, column, reason
    quarantined: int = 0  # rows
    error: StructuralError | None = None  # the file is rejected whole


def try_file(
    opener: Callable[[], BinaryIO],
    *,
    file_name: str,
    layout: Layout,
    layouts: Mapping[str, Layout],
    municipality: str,
    mapper: RecordMapper | None = None,
) -> Trial:
    """Read, check and map a file as a load would, keeping everything in memory (samples, not million-row files)."""
    trial = Trial(file_name=file_name)
    digest = hashlib.sha256()
    with opener() as stream:
        for chunk in iter(lambda: stream.read(1 << 16), b""):
            digest.update(chunk)
    month_match = _MONTH.search(file_name)
    now = datetime.now(UTC)
    file = DeliveredFile(
        id=TRIAL_RUN,
        name=file_name,
        source=layout.source,
        month=month_match[1] if month_match else "",
        sha256=digest.hexdigest(),
        size=0,
        received_at=now,
    )
    run = LoadRun(id=TRIAL_RUN, file=file, status=RunStatus.RUNNING, created_at=now)
    rows = rows_of(opener, layout=layout, file_name=file_name, layouts=layouts)
    try:
        trial.total = check_structure(rows, layout=layout, file_name=file_name, allow_empty=True)
    except StructuralError as error:
        trial.error = error
        return trial
    mapper = mapper if mapper is not None else mapper_for(layout)
    provenance = Provenance(
        source=layout.source,
        municipality=municipality,
        file_name=file_name,
        file_sha256=file.sha256,
        load_run_id=TRIAL_RUN,
        month=file.month,
    )
    preparation = Preparation(iter(rows), layout=layout, run=run, municipality=municipality)
    first_digest: dict[str, str] = {}
    try:
        while True:
            batch = preparation.take(1000)
            if batch.rows == 0:
                break
            # A load finds the keys of earlier batches in the database (delivery_keys); a trial keeps them here.
            earlier = {key: first_digest[key] for key in batch.met if key in first_digest}
            records, repeated = settle_repeats(batch, earlier, layout=layout, run=run)
            trial.quarantined += repeated
            for record in records:
                first_digest[record[RECORD_KEY]] = record[DIGEST]
                trial.records.append(
                    SourceRecord(
                        row=record[ROW],
                        values=tuple(record[VALUES]),
                        natural_key=record[NATURAL_KEY],
                        record_key=record[RECORD_KEY],
                        document=record[DOCUMENT],
                        digest=record[DIGEST],
                    )
                )
            trial.problems += batch.problems
            trial.quarantined += batch.quarantined
    except StructuralError as error:  # a file that changed between the two readings
        trial.error = error
        return trial
    finally:
        preparation.close()
    trial.events = [
        mapper.event(values=r.values, record_key=r.record_key, provenance=provenance, row=r.row, change=Change.ADDED)
        for r in trial.records
    ]
    return trial
