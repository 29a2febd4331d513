"""How staff outside 基幹系 write names and dates: the noise that identity matching must absorb."""

from __future__ import annotations

import random
from datetime import date

from mimamori.synthtown.kana import to_halfwidth_katakana, to_hiragana
from mimamori.synthtown.model import Cell, Person
from mimamori.synthtown.wareki import WarekiStyle, wareki_cell


def registered_kana(person: Person) -> str:
    """住民記録 kana: half-width katakana with a half-width space (ﾔﾏﾀﾞ ﾊﾅｺ)."""
    return to_halfwidth_katakana(f"{person.family.kana} {person.given.kana}")


def school_kana(person: Person) -> str:
    """校務系 ふりがな: hiragana with a half-width space (やまだ はなこ)."""
    return to_hiragana(f"{person.family.kana} {person.given.kana}")


def _has_gaiji(text: str) -> bool:
    return any("\ue000" <= char <= "\uf8ff" for char in text)


def typed_name(person: Person, rng: random.Random, *, noise: bool) -> str:
    """The name as typed by hand: usually the common form; with noise another space, or the legal form."""
    if not noise:
        return person.name
    family, given = person.family.common, person.given.common
    if rng.random() < 0.1 and not _has_gaiji(person.legal_name):
        family, given = person.family.legal, person.given.legal  # copied from a 住民票
    separator = rng.choices(("　", " ", ""), (0.8, 0.14, 0.06))[0]
    return f"{family}{separator}{given}" + (" " if rng.random() < 0.02 else "")


def typed_furigana(person: Person, rng: random.Random, *, noise: bool) -> str:
    """ふりがな in an Excel list: hiragana, with noise sometimes full-width katakana."""
    if noise and rng.random() < 0.2:
        return person.kana
    return school_kana(person)


def date_style(rng: random.Random, *, noise: bool) -> WarekiStyle:
    """Which way a member of staff writes a date in an Excel list."""
    if not noise:
        return WarekiStyle.LONG
    styles = (WarekiStyle.SHORT, WarekiStyle.LONG, WarekiStyle.LONG_GANNEN, WarekiStyle.DATE_CELL)
    return rng.choices(styles, (0.35, 0.3, 0.1, 0.25))[0]


def typed_date(day: date, rng: random.Random, *, noise: bool) -> Cell:
    """A date cell of an Excel list in one of the 和暦 styles (a real date before 平成)."""
    return wareki_cell(day, date_style(rng, noise=noise))
