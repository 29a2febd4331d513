"""宛名番号 (person code) and 世帯コード (household code) issuing."""

from __future__ import annotations

import random
from itertools import cycle


def check_digit(body: str) -> int:
    """Modulus-11 check digit of a 9-digit 宛名番号 body: weights 2–7 from the right, remainder 0/1 → 0."""
    total = sum(
        int(digit) * weight for digit, weight in zip(reversed(body), cycle(range(2, 8)), strict=False)
    )
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def has_valid_check_digit(number: str) -> bool:
    """Whether a 10-digit 宛名番号 ends in its national-standard check digit."""
    return len(number) == 10 and number.isdigit() and int(number[-1]) == check_digit(number[:-1])


class AtenaIssuer:
    """Issues unique, never reused 宛名番号.

    National-standard numbers (0010000000 and up) carry a valid check digit; older numbers
    (below 0001000000) come from the pre-standard system and deliberately fail the check.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next_standard = 1_000_000
        self._next_legacy = 12_000

    def standard(self) -> str:
        """A new national-standard number with a check digit."""
        body = f"{self._next_standard:09d}"
        self._next_standard += self._rng.randint(1, 7)
        return body + str(check_digit(body))

    def legacy(self) -> str:
        """A new older-style number that does not satisfy the check digit."""
        while True:
            number = f"{self._next_legacy:010d}"
            self._next_legacy += self._rng.randint(1, 9)
            if not has_valid_check_digit(number):
                return number


class HouseholdCodeIssuer:
    """Issues unique 10-digit 世帯コード."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next = 200_000_000

    def issue(self) -> str:
        """A new household code."""
        code = f"{self._next:010d}"
        self._next += self._rng.randint(1, 9)
        return code
