"""Small jumin files built in the tests themselves (CP932, CRLF), so each test shows the rows it is about."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

HEADER = (
    "宛名番号",
    "世帯コード",
    "氏名",
    "氏名カナ",
    "性別",
    "生年月日",
    "続柄",
    "住所",
    "住民日",
    "異動事由",
    "異動日",
    "住民区分",
    "支援措置",
)


class Jumin:
    """Builds jumin rows and files."""

    header = HEADER

    def row(self, atena: str = "0000000018", **fields: str) -> list[str]:
        """A valid resident row; keyword arguments by header name replace fields."""
        values = {
            "宛名番号": atena,
            "世帯コード": "0200000001",
            "氏名": "山田　花子",
            "氏名カナ": "ﾔﾏﾀﾞ ﾊﾅｺ",
            "性別": "2",
            "生年月日": "20150612",
            "続柄": "子",
            "住所": "神奈川県足柄上郡開成町延沢１２３番地の４",
            "住民日": "20150612",
            "異動事由": "出生",
            "異動日": "20150612",
            "住民区分": "住民",
            "支援措置": "",
        }
        unknown = set(fields) - set(values)
        assert not unknown, unknown
        values.update(fields)
        return [values[h] for h in HEADER]

    def text(self, rows: Sequence[Sequence[str]], *, header: Sequence[str] = HEADER, line_end: str = "\r\n") -> str:
        """CSV text (quoting only where needed)."""
        lines = [",".join(header)]
        for row in rows:
            lines.append(",".join(f'"{v}"' if ("," in v or '"' in v) else v for v in row))
        return line_end.join(lines) + line_end

    def bytes(self, rows: Sequence[Sequence[str]], **kwargs: object) -> bytes:
        """The CP932 bytes of a file."""
        return self.text(rows, **kwargs).encode("cp932")  # type: ignore[arg-type]

    def town(self, n: int, *, start: int = 1) -> list[list[str]]:
        """n distinct valid persons."""
        return [self.row(f"{i:010d}", 世帯コード=f"{2000000000 + i // 3:010d}") for i in range(start, start + n)]


@pytest.fixture
def jumin() -> Jumin:
    """The jumin file builder."""
    return Jumin()
