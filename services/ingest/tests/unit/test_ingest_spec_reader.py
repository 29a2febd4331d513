"""The jumin spec and the generic CSV reader: headers, value types, quarantine reasons, rejections."""

from __future__ import annotations

import io

import pytest

from mimamori.ingest.adapters.csv_reader import CsvRows, check_structure
from mimamori.ingest.adapters.layouts import SpecError, load_layouts, parse_spec
from mimamori.ingest.domain import delivery
from mimamori.ingest.domain.delivery import DeliveredFileName, FileNameRejected, StructuralError
from mimamori.ingest.domain.layout import Layout, check_row, iso_date, key_is_usable, reason_text
from mimamori.ingest.service_layer.handlers import layout_for

NAME = "jumin_202604.csv"


@pytest.fixture(scope="module")
def layouts() -> dict[str, Layout]:
    return load_layouts()


@pytest.fixture(scope="module")
def layout(layouts: dict[str, Layout]) -> Layout:
    return layouts["jumin"]


def rows_of(data: bytes, layout: Layout, layouts: dict[str, Layout], name: str = NAME) -> list[tuple[int, list[str]]]:
    return list(CsvRows(lambda: io.BytesIO(data), layout=layout, file_name=name, layouts=layouts))


def structural(data: bytes, layout: Layout, layouts: dict[str, Layout]) -> StructuralError:
    reader = CsvRows(lambda: io.BytesIO(data), layout=layout, file_name=NAME, layouts=layouts)
    with pytest.raises(StructuralError) as caught:
        check_structure(reader, layout=layout, file_name=NAME)
    return caught.value


def test_jumin_spec_has_the_reference_header_exactly(layout: Layout, jumin) -> None:
    assert layout.header == jumin.header
    assert (layout.encoding, layout.line_end, layout.snapshot, layout.key) == (
        "cp932",
        "crlf",
        "full",
        ("宛名番号",),
    )
    assert layout.event == "mimamori.events.ingest.v1.PersonRecordReceived"


def test_reader_streams_rows_keeping_legal_characters_and_gaiji(layout, layouts, jumin) -> None:
    legal = jumin.row("0000000018", 氏名="髙﨑　邊齋")
    gaiji = jumin.row("0000000026")
    data = jumin.bytes([legal, gaiji]).replace("山田".encode("cp932"), b"\xf0\x40\xf9\xfc", 1)
    rows = rows_of(data, layout, layouts)
    assert [r for r, _ in rows] == [1, 2]
    assert rows[0][1][2] == "髙﨑　邊齋"
    assert rows[1][1][2] == "\ue000\ue757　花子"  # the CP932 user-defined area decodes to U+E000–U+E757, kept
    assert rows[0][1][3] == "ﾔﾏﾀﾞ ﾊﾅｺ"


def test_quoted_field_with_a_comma_is_one_value(layout, layouts, jumin) -> None:
    rows = rows_of(jumin.bytes([jumin.row(住所="開成町延沢123-4, ハイツ開成 101")]), layout, layouts)
    assert rows[0][1][7] == "開成町延沢123-4, ハイツ開成 101"
    assert check_row(layout, rows[0][1]) == []


@pytest.mark.parametrize("birth", ["19500000", "19501200", "19000229", "20230231", "20150612"])
def test_partly_unknown_and_off_calendar_birth_dates_are_kept(layout: Layout, jumin, birth: str) -> None:
    assert check_row(layout, jumin.row(生年月日=birth)) == []


def test_iso_form_only_for_calendar_dates() -> None:
    assert iso_date("20150612") == "2015-06-12"
    assert [iso_date(raw) for raw in ("19500000", "19501200", "19000229")] == ["", "", ""]
    assert iso_date("20000229") == "2000-02-29"


@pytest.mark.parametrize("birth", ["2015-06-12", "20151312", "19500010", "201506", "１９５００６１２", "17991231"])
def test_malformed_dates_are_quarantined(layout: Layout, jumin, birth: str) -> None:
    issues = check_row(layout, jumin.row(生年月日=birth))
    assert [(i.column, i.code) for i in issues] == [("生年月日", "invalid_date")]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("宛名番号", "12345", "invalid_digits"),
        ("宛名番号", "００００００００１８", "invalid_digits"),
        ("世帯コード", "020000000A", "invalid_digits"),
        ("性別", "3", "unknown_code"),
        ("続柄", "長男", "unknown_code"),
        ("異動事由", "引越", "unknown_code"),
        ("住民区分", "転出済", "unknown_code"),
        ("支援措置", "0", "invalid_flag"),
        ("氏名", "", "missing_value"),
        ("宛名番号", "", "missing_value"),
    ],
)
def test_row_problems_name_the_column(layout: Layout, jumin, field: str, value: str, code: str) -> None:
    issues = check_row(layout, jumin.row(**{field: value}))
    assert [(i.column, i.code) for i in issues] == [(field, code)]


def test_every_code_of_the_reference_sets_is_accepted(layout: Layout, jumin) -> None:
    zokugara = [
        "世帯主",
        "妻",
        "夫",
        "子",
        "父",
        "母",
        "祖父",
        "祖母",
        "孫",
        "兄",
        "姉",
        "弟",
        "妹",
        "子の妻",
        "妻の父",
        "妻の母",
        "同居人",
        "縁故者",
        "他",
    ]
    reasons = ["出生", "転入", "転居", "世帯変更", "転出", "死亡", "職権消除", "氏名変更"]
    for value in zokugara:
        assert check_row(layout, jumin.row(続柄=value)) == []
    for value in reasons:
        assert check_row(layout, jumin.row(異動事由=value)) == []
    assert check_row(layout, jumin.row(住民区分="消除", 支援措置="1")) == []


def test_quarantine_reason_names_file_row_and_column_but_never_the_value(layout: Layout, jumin) -> None:
    secret_name = "秘密　太郎"
    row = jumin.row("98765", 続柄="長男", 氏名=secret_name)
    issues = check_row(layout, row)
    texts = [reason_text(file_name=NAME, row=7, issue=i) for i in issues]
    assert len(texts) == 2
    for text in texts:
        assert NAME in text and "7 行目" in text
        for value in ("98765", "長男", secret_name):
            assert value not in text
    assert "「宛名番号」" in texts[0] and "10 桁の半角数字" in texts[0]
    assert "「続柄」" in texts[1]


def test_a_row_with_a_bad_key_cannot_be_matched_to_its_record(layout: Layout, jumin) -> None:
    assert key_is_usable(layout, check_row(layout, jumin.row(続柄="長男")))
    assert not key_is_usable(layout, check_row(layout, jumin.row("12345")))
    assert not key_is_usable(layout, check_row(layout, jumin.row()[:5]))


def test_wrong_field_count_is_a_row_problem(layout, layouts, jumin) -> None:
    short = jumin.row()[:12]
    rows = rows_of(jumin.bytes([jumin.row(), short]), layout, layouts)
    issues = check_row(layout, rows[1][1])
    assert [(i.column, i.code) for i in issues] == [("", "field_count")]
    assert "13 項目" in reason_text(file_name=NAME, row=2, issue=issues[0])


def test_blank_lines_are_skipped_but_keep_row_numbers(layout, layouts, jumin) -> None:
    text = jumin.text([jumin.row("0000000018")]) + "\r\n" + jumin.text([jumin.row("0000000026")]).split("\r\n", 1)[1]
    rows = rows_of(text.encode("cp932"), layout, layouts)
    assert [(r, v[0]) for r, v in rows] == [(1, "0000000018"), (3, "0000000026")]


# Structural errors: the whole file is refused, the message names the file (and row), never a value.


def test_undecodable_bytes_name_the_row(layout, layouts, jumin) -> None:
    data = jumin.bytes([jumin.row("0000000018"), jumin.row("0000000026"), jumin.row("0000000034")])
    lines = data.split(b"\r\n")
    lines[3] = lines[3].replace("花子".encode("cp932"), b"\x81\x20")  # a lead byte without its trail byte
    error = structural(b"\r\n".join(lines), layout, layouts)
    assert (error.code, error.row) == ("undecodable", 3)
    assert NAME in error.message and "3 行目" in error.message and "CP932" in error.message


def test_utf8_file_named_jumin_is_refused(layout, layouts, jumin) -> None:
    error = structural(jumin.text([jumin.row()]).encode("utf-8"), layout, layouts)
    assert error.code in ("undecodable", "header_mismatch")
    assert NAME in error.message


def test_missing_header_column_is_named(layout, layouts, jumin) -> None:
    header = [h for h in jumin.header if h != "続柄"]
    row = [v for h, v in zip(jumin.header, jumin.row(), strict=True) if h != "続柄"]
    error = structural(jumin.bytes([row], header=header), layout, layouts)
    assert (error.code, error.row) == ("header_mismatch", 0)
    assert "不足している列: 続柄" in error.message and "見出し行" in error.message and NAME in error.message


def test_a_file_without_header_does_not_echo_its_first_row(layout, layouts, jumin) -> None:
    first = jumin.row(氏名="秘密　花子")
    data = ("\r\n".join(",".join(r) for r in [first, jumin.row("0000000026")]) + "\r\n").encode("cp932")
    error = structural(data, layout, layouts)
    assert error.code == "header_mismatch"
    for value in first:
        if len(value) >= 4:
            assert value not in error.message
    assert "見出し行がないか" in error.message and "想定外の列: 13 個" in error.message


def test_reordered_header_is_refused(layout, layouts, jumin) -> None:
    header = list(jumin.header)
    header[0], header[1] = header[1], header[0]
    error = structural(jumin.bytes([jumin.row()], header=header), layout, layouts)
    assert error.code == "header_mismatch" and "順序" in error.message


def test_another_layouts_header_is_named_as_such(layout: Layout, layouts, jumin) -> None:
    teate = parse_spec(
        {
            "source": "jidou_teate",
            "title": "児童手当",
            "encoding": "cp932",
            "key": ["受給者宛名番号", "児童宛名番号"],
            "event": "x",
            "columns": [
                {"name": n, "field": n, "type": "text"}
                for n in ("受給者宛名番号", "児童宛名番号", "支給開始年月", "支給終了年月", "状態")
            ],
        }
    )
    data = jumin.bytes([["0000000018", "0000000026", "202404", "", "支給中"]], header=teate.header)
    error = structural(data, layout, {**layouts, "jidou_teate": teate})
    assert error.code == "layout_mismatch"
    assert "住民記録 (jumin)" in error.message and "児童手当 (jidou_teate)" in error.message


def test_truncated_last_row_is_refused(layout, layouts, jumin) -> None:
    data = jumin.bytes([jumin.row("0000000018"), jumin.row("0000000026")])
    cut = data[: data.rindex("開成町".encode("cp932"))]
    error = structural(cut, layout, layouts)
    assert (error.code, error.row) == ("truncated", 2)
    assert "2 行目" in error.message and NAME in error.message


def test_truncated_inside_quotes_is_refused(layout, layouts, jumin) -> None:
    data = jumin.bytes([jumin.row("0000000018"), jumin.row("0000000026", 住所="開成町延沢1, ハイツ")])
    error = structural(data[: data.rindex(b",")], layout, layouts)
    assert (error.code, error.row) == ("truncated", 2)


def test_lf_line_ends_are_not_the_jumin_layout(layout, layouts, jumin) -> None:
    error = structural(jumin.bytes([jumin.row()], line_end="\n"), layout, layouts)
    assert (error.code, error.row) == ("line_end", 0)
    assert "CRLF" in error.message


def test_empty_file_and_header_only_file_are_refused(layout, layouts, jumin) -> None:
    assert structural(b"", layout, layouts).code == "empty_file"
    assert structural(jumin.bytes([]), layout, layouts).code == "no_rows"


def test_structure_check_counts_rows(layout, layouts, jumin) -> None:
    data = jumin.bytes(jumin.town(25))
    reader = CsvRows(lambda: io.BytesIO(data), layout=layout, file_name=NAME, layouts=layouts)
    assert check_structure(reader, layout=layout, file_name=NAME) == 25


# File names.


def test_file_name_gives_source_and_month() -> None:
    name = DeliveredFileName.parse("jumin_202604.csv")
    assert (name.source, name.month, name.extension) == ("jumin", "202604", "csv")
    assert DeliveredFileName.parse("koumu_shusseki_202605.csv").source == "koumu_shusseki"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("jumin.csv", "invalid_file_name"),
        ("jumin_202613.csv", "invalid_file_name"),
        ("../jumin_202604.csv", "invalid_file_name"),
        ("juminn_202604.csv", "unknown_layout"),
        ("jumin_202604.xlsx", "wrong_extension"),
        ("kenshin_202604.xlsx", "wrong_extension"),
        ("seiho_202604.csv", "wrong_extension"),
    ],
)
def test_file_names_that_cannot_be_loaded(layouts: dict[str, Layout], name: str, code: str) -> None:
    with pytest.raises(FileNameRejected) as caught:
        layout_for(name, layouts)
    assert caught.value.code == code
    assert name in caught.value.message


def test_a_known_source_without_a_spec_is_not_supported(layouts: dict[str, Layout]) -> None:
    without = {source: layout for source, layout in layouts.items() if source != "kenshin"}
    with pytest.raises(FileNameRejected) as caught:
        layout_for("kenshin_202604.csv", without)
    assert caught.value.code == "layout_not_supported"


def test_spec_errors_are_found_at_start_up() -> None:
    with pytest.raises(SpecError):
        parse_spec({"source": "x", "title": "x", "encoding": "cp932", "key": ["A"], "event": "e", "columns": []})
    with pytest.raises(SpecError):
        parse_spec(
            {
                "source": "x",
                "title": "x",
                "encoding": "cp932",
                "key": ["A"],
                "event": "e",
                "columns": [{"name": "A", "field": "a", "type": "colour"}],
            }
        )


def test_no_rows_message_for_other_files_names_them() -> None:
    assert "kenshin_202604.csv" in delivery.no_rows("kenshin_202604.csv").message
