"""File names, headers, sheets, encodings and line ends follow shared/sources/README.md exactly."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl

# Copied by hand from shared/sources/README.md, not from the generator.
DOCUMENTED: dict[str, tuple[str, str]] = {
    "jumin": (
        "csv",
        "宛名番号,世帯コード,氏名,氏名カナ,性別,生年月日,続柄,住所,住民日,異動事由,異動日,住民区分,支援措置",
    ),
    "jidou_teate": ("csv", "受給者宛名番号,児童宛名番号,支給開始年月,支給終了年月,状態"),
    "jidou_fuyou": ("csv", "受給者宛名番号,資格,支給区分,認定日,喪失日,対象児童数"),
    "hitorioya_iryo": ("csv", "受給者宛名番号,対象者宛名番号,資格取得日,資格喪失日"),
    "shogai_techo": ("csv", "宛名番号,手帳種別,等級,交付日,有効期限"),
    "shogai_service": ("csv", "宛名番号,サービス種類,支給決定開始日,支給決定終了日"),
    "hoiku": ("csv", "児童宛名番号,施設コード,施設名,認定区分,入所日,退所日"),
    "kenshin": ("csv", "宛名番号,健診種別,対象年月,受診日,判定,EPDS点数,備考"),
    "ninshin": ("csv", "妊婦宛名番号,届出日,出産予定日,妊娠週数,特定妊婦,情報提供元"),
    "koumu_meibo": ("csv", "学校コード,児童生徒番号,氏名,ふりがな,性別,生年月日,学年,組,住所,保護者氏名"),
    "koumu_shusseki": ("csv", "学校コード,児童生徒番号,日付,区分,理由"),
    "koumu_hokenshitsu": ("csv", "学校コード,児童生徒番号,来室日時,主訴,対応"),
    "soudan": (
        "csv",
        "相談ID,相談区分,相談日,対象者宛名番号,相談者氏名,対象児童氏名,対象児童生年月日,主訴分類,概要",
    ),
    "ssw_soudan": ("相談記録", "受付日,学校名,児童生徒氏名,学年,生年月日,相談者,対応者,主訴分類,概要"),
    "gyakutai_tsukoku": ("通告一覧", "受付日,児童氏名,ふりがな,性別,生年月日,住所,通告元,種別,対応状況"),
    "seiho": ("受給世帯", "ケース番号,世帯主氏名,世帯主生年月日,住所,世帯人員,開始日,廃止日"),
    "shugaku_enjo": ("認定者", "年度,学校名,児童生徒氏名,生年月日,保護者氏名,認定区分,認定日"),
    "kosodate_center": ("csv", "利用日,保護者氏名,子氏名,子生年月日,利用内容,相談メモ"),
    "zeimu": ("csv", "宛名番号,年度,課税区分,総所得金額"),
}
KIKAN = (
    "jumin",
    "jidou_teate",
    "jidou_fuyou",
    "hitorioya_iryo",
    "shogai_techo",
    "shogai_service",
    "hoiku",
    "kenshin",
    "ninshin",
    "soudan",
    "zeimu",
)
KOUMU = ("koumu_meibo", "koumu_shusseki", "koumu_hokenshitsu")


def test_each_month_has_exactly_the_nineteen_documented_files(town: Any) -> None:
    names = {path.name for path in town.out_dir.iterdir() if path.is_file()}
    expected = {
        f"{source}_{month}.{'csv' if kind == 'csv' else 'xlsx'}"
        for source, (kind, _) in DOCUMENTED.items()
        for month in town.truth.months
    }
    assert names == expected


def test_csv_headers_are_exactly_as_documented(town: Any) -> None:
    encodings = {source: "cp932" for source in KIKAN} | {source: "utf-8-sig" for source in KOUMU}
    for source, (kind, header) in DOCUMENTED.items():
        if kind != "csv":
            continue
        for month in town.truth.months:
            text = town.path(source, month).read_bytes().decode(encodings.get(source, "utf-8"))
            assert next(csv.reader(io.StringIO(text))) == header.split(","), source


def test_xlsx_files_have_the_documented_sheet_and_header(town: Any) -> None:
    for source, (sheet, header) in DOCUMENTED.items():
        if sheet == "csv":
            continue
        for month in town.truth.months:
            workbook = openpyxl.load_workbook(town.path(source, month))
            assert workbook.sheetnames == [sheet]
            first = next(workbook[sheet].iter_rows(max_row=1, values_only=True))
            assert list(first) == header.split(","), source


def test_kikan_csvs_are_cp932_with_crlf_line_ends(town: Any) -> None:
    for source in KIKAN:
        for month in town.truth.months:
            data = town.path(source, month).read_bytes()
            data.decode("cp932")  # strict
            assert data.count(b"\n") == data.count(b"\r\n") > 1, source
            assert not data.startswith(b"\xef\xbb\xbf")
    jumin = town.path("jumin", town.truth.months[0]).read_bytes()
    try:
        jumin.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        raise AssertionError("jumin is UTF-8, not CP932")


def test_koumu_csvs_are_utf8_with_bom_and_lf_line_ends(town: Any) -> None:
    for source in KOUMU:
        for month in town.truth.months:
            data = town.path(source, month).read_bytes()
            assert data.startswith(b"\xef\xbb\xbf"), source
            data.decode("utf-8")
            assert b"\r" not in data and data.endswith(b"\n")


def test_kosodate_center_is_utf8_without_bom_with_lf_line_ends(town: Any) -> None:
    for month in town.truth.months:
        data = town.path("kosodate_center", month).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        data.decode("utf-8")
        assert b"\r" not in data and data.endswith(b"\n")


def test_csv_fields_are_quoted_only_when_needed(town: Any) -> None:
    for source in KIKAN + KOUMU + ("kosodate_center",):
        text = (
            town.path(source, town.truth.months[-1])
            .read_bytes()
            .decode("cp932" if source in KIKAN else "utf-8-sig")
        )
        for line in text.splitlines():
            if '"' in line:
                assert any(char in field for field in next(csv.reader([line])) for char in ',"\n'), line
