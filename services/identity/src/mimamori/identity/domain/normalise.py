"""Forms used only for matching: names, kana, addresses and dates folded so that one person's spellings agree.

Records keep their values as the source gave them; nothing here is ever shown or stored as the person's name.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from mimamori.identity.domain.kana import normalise_kana

# 異体字 (registered variant characters) → the common form other systems type. NFKC already folds the CJK
# compatibility ideographs (﨑 U+FA11 → 崎, 塚 U+FA10 → 塚 …); these are distinct code points in Unicode.
VARIANTS: dict[str, str] = {
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "碕": "崎",
    "邊": "辺",
    "邉": "辺",
    "齋": "斎",
    "齊": "斎",
    "濵": "浜",
    "濱": "浜",
    "德": "徳",
    "冨": "富",
    "澤": "沢",
    "實": "実",
    "嶋": "島",
    "嶌": "島",
    "廣": "広",
    "櫻": "桜",
    "瀨": "瀬",
    "藏": "蔵",
    "國": "国",
    "惠": "恵",
    "榮": "栄",
    "壽": "寿",
    "圓": "円",
    "淺": "浅",
    "關": "関",
    "彌": "弥",
    "萬": "万",
    "與": "与",
    "禮": "礼",
    "滿": "満",
    "傳": "伝",
    "峯": "峰",
    "桒": "桑",
    "靑": "青",
    "眞": "真",
    "槇": "槙",
    "龍": "竜",
    "條": "条",
    "曻": "昇",
    "邨": "村",
    "鄕": "郷",
    "晝": "昼",
    "黑": "黒",
    "萠": "萌",
    "﨔": "欅",
}

GAIJI_FIRST = 0xE000  # CP932 user-defined area as decoded by Python (U+E000–U+E757)
GAIJI_LAST = 0xF8FF
GAIJI = "\ue000"  # every 外字 is folded to this one marker: it matches any single character

_HIRAGANA_FIRST = 0x3041
_HIRAGANA_LAST = 0x3096
_KATAKANA_FIRST = 0x30A1
_KATAKANA_LAST = 0x30FA
_PREFECTURE = re.compile(r"^(?:神奈川県|.{2,3}[都道府県])")
_COUNTY = re.compile(r"^.{1,4}?郡")
_MUNICIPALITY = re.compile(r"^(.{1,5}?[市町村])")
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−ーｰ－﹣"})


def is_gaiji(char: str) -> bool:
    """Whether a character is a 外字 from the user-defined area."""
    return GAIJI_FIRST <= ord(char) <= GAIJI_LAST


def _is_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


@lru_cache(maxsize=1 << 17)
def name_key(name: str) -> str:
    """A name for comparison: NFKC, variants folded, IVS dropped, 外字 as one marker, kana as katakana, no spaces."""
    out: list[str] = []
    for char in name:
        if _is_selector(char) or char.isspace():
            continue
        if is_gaiji(char):
            out.append(GAIJI)
            continue
        for folded in unicodedata.normalize("NFKC", char):
            if folded.isspace():
                continue
            code = ord(folded)
            if _HIRAGANA_FIRST <= code <= _HIRAGANA_LAST:
                folded = chr(code + 0x60)
            out.append(VARIANTS.get(folded, folded))
    return "".join(out)


def split_name(name: str) -> tuple[str, str]:
    """Family and given name split at the first space of any width ('' given when there is no space)."""
    parts = unicodedata.normalize("NFKC", name).strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


@lru_cache(maxsize=1 << 17)
def kana_key(kana: str) -> str:
    """Kana for comparison: full-width katakana, no spaces (half-width, hiragana and katakana agree)."""
    return normalise_kana(kana)


@lru_cache(maxsize=1 << 16)
def is_kana(text: str) -> bool:
    """Whether a (normalised) text is katakana only, e.g. a given name typed in hiragana."""
    return bool(text) and all(_KATAKANA_FIRST <= ord(c) <= _KATAKANA_LAST or c in "ーヽヾ" for c in text)


def names_agree(reference: str, resident: str) -> bool:
    """Whether two name keys agree, a 外字 marker on the resident's side matching any one character."""
    if len(reference) != len(resident):
        return False
    return all(a == b or b == GAIJI for a, b in zip(reference, resident, strict=True))


@lru_cache(maxsize=1 << 17)
def address_key(address: str) -> str:
    """An address for comparison: digits half-width, no prefecture or county, 番地の/番/号 as hyphens, no building."""
    text = unicodedata.normalize("NFKC", address).translate(_DASHES).strip()
    text = text.split()[0] if text.split() else ""
    text = _PREFECTURE.sub("", text)
    text = _COUNTY.sub("", text)
    text = re.sub(r"(\d)番地の(\d)", r"\1-\2", text)
    text = re.sub(r"(\d)番地(\d)", r"\1-\2", text)
    text = re.sub(r"(\d)番地$", r"\1", text)
    text = re.sub(r"(\d)番(\d)", r"\1-\2", text)
    text = re.sub(r"(\d)号$", r"\1", text)
    text = re.sub(r"(\d)の(\d)", r"\1-\2", text)
    text = re.sub(r"(\d)丁目(\d)", r"\1-\2", text)
    return text.rstrip("-")


@lru_cache(maxsize=1 << 17)
def municipality_of(address: str) -> str:
    """The 市町村 an address names (without prefecture or county), or '' when it names none."""
    key = address_key(address)
    found = _MUNICIPALITY.match(key)
    return found[1] if found else ""


def sex_code(sex: str) -> str:
    """'1' 男 / '2' 女 from any of the sources' codes, '' when unknown."""
    value = unicodedata.normalize("NFKC", sex).strip()
    if value in ("1", "男", "M", "m"):
        return "1"
    if value in ("2", "女", "F", "f"):
        return "2"
    return ""


def birth_key(iso: str, raw: str = "") -> str:
    """A calendar birth date as YYYY-MM-DD, or '' when unknown or not on the calendar."""
    if iso:
        try:
            return date.fromisoformat(iso).isoformat()
        except ValueError:
            return ""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", raw))
    if len(digits) == 8:
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).isoformat()
        except ValueError:
            return ""
    return ""


def partial_birth_agrees(reference_iso: str, resident_raw: str) -> bool:
    """Whether a full date agrees with a partly unknown 基幹系 date ('19500000', '19501200', '19000229')."""
    digits = re.sub(r"\D", "", resident_raw)
    if len(digits) != 8 or len(reference_iso) != 10:
        return False
    year, month, day = digits[:4], digits[4:6], digits[6:]
    ref_year, ref_month, ref_day = reference_iso[:4], reference_iso[5:7], reference_iso[8:]
    if year != ref_year:
        return False
    if month == "00":
        return True
    return month == ref_month and (day in ("00", ref_day))
