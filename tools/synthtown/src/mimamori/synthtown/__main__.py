"""python -m mimamori.synthtown --out DIR --households N --months 202604,202605,202606 --seed 1"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mimamori.synthtown.town import generate_town


def main(argv: list[str] | None = None) -> int:
    """Generate a synthetic town into a directory."""
    parser = argparse.ArgumentParser(prog="python -m mimamori.synthtown", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="directory for the export files and truth/")
    parser.add_argument("--households", type=int, default=300)
    parser.add_argument(
        "--months", default="202604,202605,202606", help="consecutive YYYYMM, comma-separated"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--municipality-code", default="143669")
    parser.add_argument("--no-noise", action="store_true", help="no variant characters, 外字 or typing noise")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        truth = generate_town(
            seed=args.seed,
            households=args.households,
            months=[code.strip() for code in args.months.split(",") if code.strip()],
            out_dir=args.out,
            municipality_code=args.municipality_code,
            noise=not args.no_noise,
        )
    except ValueError as error:
        parser.error(str(error))
    elapsed = time.perf_counter() - started
    print(
        f"{len(truth.rows)} files, {len(truth.persons)} persons in {args.out} ({elapsed:.1f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
