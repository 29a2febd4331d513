from __future__ import annotations

import csv
import io
import tracemalloc
from pathlib import Path

from mimamori.synthtown import write_jumin_rows
from mimamori.synthtown.atena import has_valid_check_digit

JUMIN_HEADER = (
    "宛名番号,世帯コード,氏名,氏名カナ,性別,生年月日,続柄,住所,住民日,異動事由,異動日,住民区分,支援措置"
)


def test_streaming_jumin_writer_writes_exactly_the_requested_valid_rows(tmp_path: Path) -> None:
    path = tmp_path / "jumin_202604.csv"
    assert write_jumin_rows(path, n_rows=3000, seed=1) == 3000
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n") == 3001
    rows = list(csv.reader(io.StringIO(data.decode("cp932"))))
    assert ",".join(rows[0]) == JUMIN_HEADER
    body = rows[1:]
    assert len(body) == 3000 and all(len(row) == 13 for row in body)
    assert len({row[0] for row in body}) == 3000
    assert sum(has_valid_check_digit(row[0]) for row in body) > 2000
    assert all(len(row[1]) == 10 and row[11] in ("住民", "消除") for row in body)


def test_streaming_jumin_writer_memory_does_not_grow_with_the_row_count(tmp_path: Path) -> None:
    peaks = []
    for rows in (1_000, 10_000):
        tracemalloc.start()
        write_jumin_rows(tmp_path / f"jumin_{rows}.csv", n_rows=rows, seed=2)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # Ten times the rows, about the same peak: rows are streamed, never collected in a list
    # (10,000 rows held at once would take several megabytes).
    assert peaks[1] < peaks[0] * 1.5 + 100_000
    assert peaks[1] < 1_000_000


def test_streaming_jumin_writer_is_deterministic(tmp_path: Path) -> None:
    write_jumin_rows(tmp_path / "a.csv", n_rows=500, seed=9)
    write_jumin_rows(tmp_path / "b.csv", n_rows=500, seed=9)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
