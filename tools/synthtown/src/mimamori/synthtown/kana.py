"""Kana scripts and character widths as the different systems write them."""

from __future__ import annotations

_FULL = (
    "ァアィイゥウェエォオカキクケコサシスセソタチッツテトナニヌネノ"
    "ハヒフヘホマミムメモャヤュユョヨラリルレロワヲンー"
)
_HALF = "ｧｱｨｲｩｳｪｴｫｵｶｷｸｹｺｻｼｽｾｿﾀﾁｯﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓｬﾔｭﾕｮﾖﾗﾘﾙﾚﾛﾜｦﾝｰ"
_VOICED = "ガギグゲゴザジズゼゾダヂヅデドバビブベボ"
_SEMI_VOICED = "パピプペポ"
_BASE_OF_VOICED = "カキクケコサシスセソタチツテトハヒフヘホ"
_BASE_OF_SEMI_VOICED = "ハヒフヘホ"

_HALFWIDTH: dict[str, str] = dict(zip(_FULL, _HALF, strict=True))
_HALFWIDTH |= {v: _HALFWIDTH[b] + "ﾞ" for v, b in zip(_VOICED, _BASE_OF_VOICED, strict=True)}
_HALFWIDTH |= {v: _HALFWIDTH[b] + "ﾟ" for v, b in zip(_SEMI_VOICED, _BASE_OF_SEMI_VOICED, strict=True)}
_HALFWIDTH |= {"ヴ": "ｳﾞ", "　": " ", " ": " "}

_FULLWIDTH_DIGITS = str.maketrans("0123456789-", "０１２３４５６７８９－")


def to_halfwidth_katakana(text: str) -> str:
    """Full-width katakana as 基幹系 writes it: ﾔﾏﾀﾞ ﾊﾅｺ."""
    try:
        return "".join(_HALFWIDTH[char] for char in text)
    except KeyError as error:
        raise ValueError(f"no half-width form for {error.args[0]!r}") from None


def to_hiragana(text: str) -> str:
    """Full-width katakana as the school system writes it: やまだ はなこ."""
    chars = []
    for char in text:
        if "ァ" <= char <= "ヶ":
            chars.append(chr(ord(char) - 0x60))
        elif char == "　":
            chars.append(" ")
        else:
            chars.append(char)
    return "".join(chars)


def to_fullwidth_digits(text: str) -> str:
    """ASCII digits and hyphens as full-width characters."""
    return text.translate(_FULLWIDTH_DIGITS)
