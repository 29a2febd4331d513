"""Kana as a search and matching key: full-width katakana without spaces (records keep their form)."""

from __future__ import annotations

import unicodedata

_HIRAGANA_FIRST = 0x3041  # ぁ
_HIRAGANA_LAST = 0x3096  # ゖ
_ITERATION_MARKS = {"ゝ": "ヽ", "ゞ": "ヾ"}
_KATAKANA_OFFSET = 0x60


def normalise_kana(text: str) -> str:
    """NFKC (half-width katakana to full-width, voiced marks composed), hiragana to katakana, no spaces."""
    folded = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for char in folded:
        if char.isspace():
            continue
        code = ord(char)
        if _HIRAGANA_FIRST <= code <= _HIRAGANA_LAST:
            out.append(chr(code + _KATAKANA_OFFSET))
        else:
            out.append(_ITERATION_MARKS.get(char, char))
    return "".join(out)
