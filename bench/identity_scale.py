"""Speed of identity's batch matcher on a bulk resident snapshot and a school roll built from it.

    uv run python bench/identity_scale.py --residents 1000000 --pupils 200000 [--out bench/results/identity_scale.json]

Residents come from tools/synthtown's streamed `write_jumin_rows`; pupils are residents born 2010 or later, typed as
the school system types them (hiragana ふりがな, common forms of variant characters, 男/女, a free-style address).
This measures time and memory, and checks that no pupil links to the wrong resident; quality on realistic noise
is bench/identity_quality.py.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import resource
import tempfile
import time
import unicodedata
from pathlib import Path

from mimamori.identity.domain.matching import Reference, Resident, link_references
from mimamori.synthtown import write_jumin_rows


def _iso(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:6]}-{raw[6:]}" if raw[4:6] != "00" and raw[6:] != "00" else ""


def _hiragana(kana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if 0x30A1 <= ord(c) <= 0x30F6 else c for c in unicodedata.normalize("NFKC", kana))


def main() -> None:
    """Write the snapshot, build the roll, match, and write the numbers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--pupils", type=int, default=40_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/identity_scale.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "jumin_202604.csv"
        write_jumin_rows(path, n_rows=args.residents, seed=1)
        rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("cp932"), newline="")))
    residents = [
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
        )
        for r in rows
    ]
    del rows
    children = [r for r in residents if r.birth_iso >= "2010"]
    sample = random.Random(1).sample(children, min(len(children), args.pupils))
    pupils = [
        Reference(
            role="child",
            name=r.names[0].replace("髙", "高").replace("﨑", "崎"),
            name_kana=_hiragana(r.kanas[0]),
            sex="男" if r.sex == "1" else "女",
            birth_iso=r.birth_iso,
            school_code="B1",
            student_no=str(i),
        )
        for i, r in enumerate(sample)
    ]
    started = time.perf_counter()
    answers = link_references(residents, pupils)
    seconds = time.perf_counter() - started
    right = sum(a.linked == p.person_id for a, p in zip(answers, sample, strict=True))
    wrong = sum(a.linked is not None and a.linked != p.person_id for a, p in zip(answers, sample, strict=True))
    offered = sum(a.linked is None and p.person_id in a.proposed for a, p in zip(answers, sample, strict=True))
    result = {
        "residents": len(residents),
        "pupils": len(pupils),
        "seconds": round(seconds, 1),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "linked_right": right,
        "linked_wrong": wrong,
        "in_review_right": offered,
        "precision": right / (right + wrong) if right + wrong else 1.0,
        "recall_counting_review": (right + offered) / len(pupils) if pupils else 1.0,
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
