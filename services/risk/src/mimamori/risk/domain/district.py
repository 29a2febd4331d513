"""The district (大字) of a resident, from the address as 住民記録 writes it: 神奈川県足柄上郡開成町延沢１２３番地の４
→ 延沢. Addresses outside the town give no district."""

from __future__ import annotations

import re

# The 大字 ends where the 番地 begins: the first digit (ASCII or full-width) or kanji numeral.
_NUMBER = re.compile(r"[0-9０-９一二三四五六七八九十〇]")


def district_of(address: str, *, town: str) -> str:
    """The 大字 after the town's name, or '' when the address is not in the town or names no 大字."""
    _, found, rest = address.replace(" ", "").replace("\u3000", "").partition(town)
    if not found:
        return ""
    end = _NUMBER.search(rest)
    return (rest[: end.start()] if end else rest).removesuffix("字").strip()
