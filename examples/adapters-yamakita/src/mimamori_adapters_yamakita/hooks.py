"""Row hooks: what a spec cannot say about 山北町's exports."""

from __future__ import annotations

FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
ATENA_LENGTH = 10


def pad_atena_no(values: list[str]) -> list[str]:
    """山北町's 福祉システム writes the 宛名番号 (first column) as a number: full-width digits sometimes, and
    without its leading zeros. Restore the 10-digit zero-padded code; anything else is left for the checks."""
    if not values:
        return values
    atena = values[0].strip().translate(FULL_WIDTH_DIGITS)
    if atena.isascii() and atena.isdigit() and len(atena) < ATENA_LENGTH:
        atena = atena.zfill(ATENA_LENGTH)
    if atena.isascii() and atena.isdigit():
        return [atena, *values[1:]]
    return values
