"""Identity's matcher on exactly the data the Splink bench links, scored by the same function, side by side.

    uv run python bench/identity_vs_splink.py [--size 1000000] [--pupils 200000] [--out FILE.json]

The data is bench/identity_data.py's labelled resident snapshot (住民記録 layout) and school roll (校務 layout), made
once and shared with bench/identity_splink.py (`/tmp/mimamori-identity-<size>-<pupils>-<seed>`). Our automatic links
are those graded certain; recall "counting the review queue" adds the pupils whose true resident is among the
candidates staff are offered. Splink's figures are read from its last result file (run `make bench` or
bench/identity_splink.py for them); both use `identity_data.evaluate`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from identity_data import ensure, evaluate, load_truth

from mimamori.identity.domain.matching import Reference, Resident, link_references


def _iso(raw: str) -> str:
    if len(raw) != 8 or raw[4:6] == "00" or raw[6:] == "00":
        return ""
    return f"{raw[:4]}-{raw[4:6]}-{raw[6:]}"


def _residents(path: Path) -> list[Resident]:
    text = path.read_bytes().decode("cp932")
    return [
        Resident(
            person_id=r["宛名番号"],
            atena_no=r["宛名番号"],
            names=(r["氏名"],),
            kanas=(r["氏名カナ"],),
            sex=r["性別"],
            birth_raw=r["生年月日"],
            birth_iso=_iso(r["生年月日"]),
            address=r["住所"],
            setai_code=r["世帯コード"],
            resident=r["住民区分"] == "住民",
        )
        for r in csv.DictReader(io.StringIO(text, newline=""))
    ]


def _pupils(path: Path) -> tuple[list[str], list[Reference]]:
    ids, refs = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for r in csv.DictReader(handle):
            ids.append(r["pupil_id"])
            refs.append(
                Reference(
                    role="child",
                    name=r["氏名"],
                    name_kana=r["ふりがな"],
                    sex={"男": "1", "女": "2"}.get(r["性別"], ""),
                    birth_iso=r["生年月日"],
                    birth_raw=r["生年月日"],
                    address=r["住所"],
                    school_code=r["学校コード"],
                    student_no=r["児童生徒番号"],
                    grade=r["学年"],
                )
            )
    return ids, refs


def main() -> None:
    """Link, score, and write our numbers beside Splink's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="residents")
    parser.add_argument("--pupils", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--splink", type=Path, default=Path("bench/results/identity_splink.json"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/identity_vs_splink.json"))
    args = parser.parse_args()
    data = Path(f"/tmp/mimamori-identity-{args.size}-{args.pupils}-{args.seed}")
    ensure(data, size=args.size, pupils=args.pupils, seed=args.seed)
    truth, _ = load_truth(data)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    residents = _residents(data / "residents.csv")
    ids, pupils = _pupils(data / "pupils.csv")
    answers = link_references(residents, pupils)
    seconds, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    automatic = {pupil: a.linked for pupil, a in zip(ids, answers, strict=True) if a.linked}
    scored = evaluate(automatic, truth)
    offered = sum(
        1
        for pupil, a in zip(ids, answers, strict=True)
        if a.needs_review and truth[pupil] is not None and truth[pupil] in a.proposed
    )
    residents_on_roll = sum(1 for v in truth.values() if v is not None)
    ours = {
        "precision_automatic": scored["precision"],
        "recall_automatic": scored["recall"],
        "recall_counting_review": round((scored["right"] + offered) / residents_on_roll, 5),
        "in_review": sum(1 for a in answers if a.needs_review),
        **{k: scored[k] for k in ("links", "right", "wrong_person", "non_resident_linked", "missed")},
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    splink = json.loads(args.splink.read_text(encoding="utf-8")) if args.splink.exists() else {}
    result = {
        "bench": "identity's matcher vs Splink 4 (DuckDB) on the same labelled resident snapshot and school roll",
        "residents": args.size,
        "pupils": args.pupils,
        "seed": args.seed,
        "cores": os.cpu_count(),
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "mimamori": ours,
        "splink": {
            k: splink.get(k) for k in ("threshold", "precision", "recall", "seconds", "cpu_seconds", "peak_rss_mb")
        },
        "targets": {"precision_automatic": 0.999, "recall_counting_review": 0.99},
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
