"""Bench: a large jumin-layout CP932 file loaded end to end on PostgreSQL (issue 3 item 6).

End to end = parsed, validated, stored (source records), events in the outbox, the run's counts committed: the
service's own `load_delivery`, in this process, on a fresh database. The outbox relay is stopped (the target
counts events *in the outbox*; `--relay` keeps it running, publishing to an in-process bus). Reported: wall
rows/s, rows per CPU-second of this process (the box is shared, wall time is noisy), the PostgreSQL backends'
CPU, this process's peak RSS; then, on the same file: a re-delivery of the same bytes under next month's name
(every row unchanged), a correction (1% of the rows changed, 0.1% missing: exact differences and removals),
and the ceiling: `COPY` of the file into an equivalent table (its 13 columns as text, 宛名番号 the key).
Usage: python bench/ingest_load.py --rows 1000000 --out bench/results/ingest_load.json
Needs MIMAMORI_TEST_DATABASE_URL (bench.sh starts a local server otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg

from mimamori.ingest.adapters.file_store import file_chunks
from mimamori.ingest.module import IngestModule
from mimamori.ingest.service_layer import handlers
from mimamori.kit.auth import AccessContext
from mimamori.kit.config import PlatformSettings
from mimamori.kit.messaging.inprocess import InProcessBus
from mimamori.kit.runtime.process import running
from mimamori.kit.testing.servers import fresh_database

TARGET_ROWS_PER_S = 20_000
TARGET_PEAK_MB = 400
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def generate(path: Path, rows: int, seed: int) -> None:
    """synthtown's bulk jumin file, written in a child process (its memory is not ours)."""
    code = (
        "import sys; from pathlib import Path; from mimamori.synthtown import write_jumin_rows; "
        "write_jumin_rows(Path(sys.argv[1]), n_rows=int(sys.argv[2]), seed=int(sys.argv[3]))"
    )
    subprocess.run([sys.executable, "-c", code, str(path), str(rows), str(seed)], check=True)


def corrected(source: Path, target: Path, *, every_changed: int = 100, every_missing: int = 1000) -> tuple[int, int]:
    """A corrected re-delivery: every n-th row's 住所 changed, every m-th row left out; (changed, missing)."""
    changed = missing = 0
    with source.open(encoding="cp932", newline="") as src, target.open("w", encoding="cp932", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\r\n")
        writer.writerow(next(reader))
        for index, row in enumerate(reader, start=1):
            if index % every_missing == 0:
                missing += 1
                continue
            if index % every_changed == 0:
                row[7] += "（訂正）"
                changed += 1
            writer.writerow(row)
    return changed, missing


def backend_cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (PostgreSQL backends on this machine), 0 where unreadable."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


async def backend_pids(url: str) -> list[int]:
    """Pids of the server's backends connected to this database."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [r["pid"] for r in rows if r["pid"] != conn.get_server_pid()]
    finally:
        await conn.close()


async def measure(label: str, body: Callable[[], Any], *, plain_url: str, rows: int) -> dict[str, Any]:
    """Wall and CPU time of one step; rows/s by both."""
    pids = await backend_pids(plain_url)
    db_before = backend_cpu_seconds(pids)
    wall, cpu = time.perf_counter(), time.process_time()
    result = await body()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pids = sorted(set(pids) | set(await backend_pids(plain_url)))
    db_cpu = backend_cpu_seconds(pids) - db_before
    measured = {
        "rows": rows,
        "wall_s": round(wall, 2),
        "rows_per_s": round(rows / wall),
        "python_cpu_s": round(cpu, 2),
        "rows_per_python_cpu_s": round(rows / cpu) if cpu else None,
        "postgres_backend_cpu_s": round(db_cpu, 2),
        "rows_per_total_cpu_s": round(rows / (cpu + db_cpu)) if cpu + db_cpu else None,
        "peak_rss_mb_so_far": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if isinstance(result, dict):
        measured.update(result)
    print(f"{label}: {json.dumps(measured, ensure_ascii=False)}", flush=True)
    return measured


async def load(module: IngestModule, path: Path, name: str) -> dict[str, Any]:
    """Keep the file (not timed), then load it (timed by the caller); the run's counts."""
    context = AccessContext(
        subject="bench", roles=["data_officer"], purpose=handlers.PURPOSE, decision_id="", municipality="143669"
    )
    run = await handlers.receive_file(
        name,
        chunks=file_chunks(path),
        loading=module.loading,
        context=context,
        route="bench",
        max_bytes=module.settings.max_upload_bytes,
    )
    return {"run_id": run.id}


async def copy_ceiling(plain_url: str, path: Path, header: list[str]) -> dict[str, Any]:
    """COPY of the file, as it is, into a table of its columns (the best PostgreSQL can take it in)."""
    conn = await asyncpg.connect(plain_url)
    try:
        columns = ", ".join(f'"{h}" text' + (" PRIMARY KEY" if i == 0 else "") for i, h in enumerate(header))
        await conn.execute(f"CREATE TABLE jumin_copy ({columns})")
        started = time.perf_counter()
        status = await conn.copy_to_table("jumin_copy", source=str(path), format="csv", header=True, encoding="SJIS")
        wall = time.perf_counter() - started
        copied = int(status.split()[-1])
        return {"rows": copied, "wall_s": round(wall, 2), "rows_per_s": round(copied / wall)}
    finally:
        await conn.close()


def prepare(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """The file to load (generated once, cached) and its header."""
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    path = Path(args.file) if args.file else cache / f"jumin_{args.rows}_seed{args.seed}.csv"
    if not path.exists():
        print(f"generating {path}", flush=True)
        generate(path, args.rows, args.seed)
    with path.open(encoding="cp932", newline="") as handle:
        return path, next(csv.reader(handle))


async def main(args: argparse.Namespace, *, path: Path, header: list[str], size: int) -> dict[str, Any]:
    admin = os.environ.get("MIMAMORI_TEST_DATABASE_URL")
    if not admin:
        raise SystemExit("MIMAMORI_TEST_DATABASE_URL is not set (bench.sh starts a local PostgreSQL)")
    cache = Path(args.cache_dir)
    rows = args.rows
    report: dict[str, Any] = {
        "bench": "jumin CP932 file loaded end to end (parsed, validated, stored, events in the outbox), PostgreSQL",
        "rows": rows,
        "file_mb": round(size / 1e6, 1),
        "relay": "running (in-process bus)" if args.relay else "stopped (events stay in the outbox)",
        "batch_size": int(os.environ.get("MIMAMORI_INGEST_BATCH_SIZE", "0")) or "default",
        "machine": f"{os.cpu_count()} cores, shared; load average at start {os.getloadavg()[0]:.1f}",
    }
    with fresh_database(admin) as url, tempfile.TemporaryDirectory() as data_dir:
        plain = url.replace("postgresql+asyncpg://", "postgresql://")
        settings = PlatformSettings(data_dir=Path(data_dir), database_url=url)
        async with running(targets=["ingest"], settings=settings, bus=InProcessBus()) as rt:
            module = rt.module("ingest")
            assert isinstance(module, IngestModule)
            await module.worker.stop()  # the bench loads in the foreground
            if not args.relay and module.outbox is not None:
                await module.outbox.stop()

            async def deliver(name: str, file: Path) -> dict[str, Any]:
                run_id = (await load(module, file, name))["run_id"]

                async def body() -> dict[str, Any]:
                    run = await handlers.load_delivery(run_id, loading=module.loading)
                    return {"status": run.status.value, **run.counts}

                return await measure(name, body, plain_url=plain, rows=rows_of(file))

            def rows_of(file: Path) -> int:
                return rows if file == path else counted[file]

            counted: dict[Path, int] = {}
            first = await deliver("jumin_202604.csv", path)
            outbox = await count(plain, "SELECT count(*) FROM ingest.outbox")
            first["outbox_rows"] = outbox
            report["first_load"] = first
            if args.all:
                report["same_bytes_next_month"] = await deliver("jumin_202605.csv", path)
                fixed = cache / f"jumin_{args.rows}_seed{args.seed}_corrected.csv"
                changed, missing = await asyncio.to_thread(corrected, path, fixed)
                counted[fixed] = rows - missing
                correction = await deliver("jumin_202605.csv", fixed)
                correction["expected"] = {"changed": changed, "removed": missing}
                report["correction"] = correction
            report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if not args.skip_copy:
            report["copy_ceiling"] = await copy_ceiling(plain, path, header)
            report["ratio_to_copy"] = round(first["rows_per_s"] / report["copy_ceiling"]["rows_per_s"], 3)
    report["target"] = f">= {TARGET_ROWS_PER_S:,} rows/s, peak RSS < {TARGET_PEAK_MB} MB"
    report["met"] = first["rows_per_s"] >= TARGET_ROWS_PER_S and report["peak_rss_mb"] < TARGET_PEAK_MB
    report["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    report["id"] = str(uuid.uuid4())[:8]
    return report


async def count(url: str, sql: str) -> int:
    """One number from the database."""
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--file", help="an existing jumin file of --rows rows (default: generated, cached)")
    parser.add_argument("--cache-dir", default=os.environ.get("BENCH_CACHE_DIR", "/tmp/mimamori-bench/files"))
    parser.add_argument("--relay", action="store_true", help="keep the outbox relay running (in-process bus)")
    parser.add_argument("--all", action="store_true", help="also the unchanged re-delivery and the correction")
    parser.add_argument("--skip-copy", action="store_true")
    parser.add_argument("--out")
    arguments = parser.parse_args()
    file, columns = prepare(arguments)
    result = asyncio.run(main(arguments, path=file, header=columns, size=file.stat().st_size))
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if arguments.out:
        Path(arguments.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
