"""A large jumin file for benchmarks, written row by row in bounded memory."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from mimamori.synthtown.addresses import Address, registered_address
from mimamori.synthtown.atena import AtenaIssuer, HouseholdCodeIssuer
from mimamori.synthtown.kana import to_halfwidth_katakana
from mimamori.synthtown.layouts import LAYOUT_BY_SOURCE
from mimamori.synthtown.months import Month
from mimamori.synthtown.vocabulary import BUILDINGS, DISTRICTS, FAMILY_NAMES, GIVEN_NAMES

_HOUSEHOLD_SIZES = ((1, 2, 3, 4, 5, 6), (0.3, 0.27, 0.18, 0.15, 0.07, 0.03))


def write_jumin_rows(path: Path, *, n_rows: int, seed: int, month: str = "202604") -> int:
    """Write a valid jumin CSV with exactly `n_rows` data rows, household by household; return the count."""
    layout = LAYOUT_BY_SOURCE["jumin"]
    rows = _household_rows(random.Random(f"{seed}:bulk-jumin"), today=Month.parse(month).last_day)
    written = 0
    with path.open("w", encoding=layout.encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator=layout.newline)
        writer.writerow(layout.headers)
        while written < n_rows:
            writer.writerow(next(rows))
            written += 1
    return written


def _ymd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _household_rows(rng: random.Random, *, today: date) -> Iterator[tuple[str, ...]]:
    """An endless stream of jumin rows, one household after another."""
    atena = AtenaIssuer(random.Random(rng.random()))
    codes = HouseholdCodeIssuer(random.Random(rng.random()))
    while True:
        code = codes.issue()
        entry = rng.choice(FAMILY_NAMES)
        family = rng.choice(entry.variants) if entry.variants and rng.random() < 0.5 else entry.common
        building = rng.choice(BUILDINGS) if rng.random() < 0.25 else None
        address = Address(
            f"開成町{rng.choice(DISTRICTS)}",
            rng.randint(1, 2400),
            rng.choice((None, rng.randint(1, 30))),
            building,
            rng.randint(101, 305) if building else None,
        )
        written_address = registered_address(address)
        size = rng.choices(*_HOUSEHOLD_SIZES)[0]
        head_age = rng.randint(20, 90) if size == 1 else rng.randint(26, 60)
        head_birth = today - timedelta(days=365 * head_age + rng.randint(0, 364))
        members = [("世帯主", rng.choice((1, 2)) if size == 1 else 1, head_birth)]
        if size >= 2:
            members.append(("妻", 2, head_birth + timedelta(days=rng.randint(-700, 1800))))
        for _ in range(size - 2):
            child_birth = head_birth + timedelta(days=365 * rng.randint(24, 40) + rng.randint(0, 364))
            members.append(("子", rng.choice((1, 2)), min(child_birth, today)))
        removed = rng.random() < 0.03
        for relation, sex, birth in members:
            generation = "elder" if birth.year < 1965 else "adult" if birth.year < 2000 else "young"
            given = rng.choice(GIVEN_NAMES[(generation, sex)])
            since = max(birth, today - timedelta(days=rng.randint(30, 40 * 365)))
            reason = "出生" if since == birth else "転入"
            yield (
                atena.standard() if rng.random() < 0.9 else atena.legacy(),
                code,
                f"{family}　{given.legal or given.common}",
                to_halfwidth_katakana(f"{entry.kana} {given.kana}"),
                str(sex),
                _ymd(birth),
                relation,
                written_address,
                _ymd(since),
                "転出" if removed else reason,
                _ymd(today - timedelta(days=rng.randint(1, 200)) if removed else since),
                "消除" if removed else "住民",
                "",
            )
