"""The 19 export layouts of 開成町's systems (shared/sources/README.md): names, headers, encodings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLayout:
    """How one source's monthly file is named and written."""

    source: str
    headers: tuple[str, ...]
    ext: str = "csv"
    encoding: str = "cp932"  # cp932, utf-8-sig (UTF-8 with BOM) or utf-8
    newline: str = "\r\n"
    sheet: str | None = None  # XLSX only

    def file_name(self, month_code: str) -> str:
        return f"{self.source}_{month_code}.{self.ext}"


def _kikan(source: str, headers: str) -> SourceLayout:
    """基幹系 CSV: CP932, CRLF."""
    return SourceLayout(source, tuple(headers.split()))


def _koumu(source: str, headers: str) -> SourceLayout:
    """校務系 CSV: UTF-8 with BOM, LF."""
    return SourceLayout(source, tuple(headers.split()), encoding="utf-8-sig", newline="\n")


def _excel(source: str, sheet: str, headers: str) -> SourceLayout:
    return SourceLayout(source, tuple(headers.split()), ext="xlsx", encoding="", newline="", sheet=sheet)


LAYOUTS: tuple[SourceLayout, ...] = (
    _kikan(
        "jumin",
        "宛名番号 世帯コード 氏名 氏名カナ 性別 生年月日 続柄 住所 住民日 異動事由 異動日 住民区分 支援措置",
    ),
    _kikan("jidou_teate", "受給者宛名番号 児童宛名番号 支給開始年月 支給終了年月 状態"),
    _kikan("jidou_fuyou", "受給者宛名番号 資格 支給区分 認定日 喪失日 対象児童数"),
    _kikan("hitorioya_iryo", "受給者宛名番号 対象者宛名番号 資格取得日 資格喪失日"),
    _kikan("shogai_techo", "宛名番号 手帳種別 等級 交付日 有効期限"),
    _kikan("shogai_service", "宛名番号 サービス種類 支給決定開始日 支給決定終了日"),
    _kikan("hoiku", "児童宛名番号 施設コード 施設名 認定区分 入所日 退所日"),
    _kikan("kenshin", "宛名番号 健診種別 対象年月 受診日 判定 EPDS点数 備考"),
    _kikan("ninshin", "妊婦宛名番号 届出日 出産予定日 妊娠週数 特定妊婦 情報提供元"),
    _koumu("koumu_meibo", "学校コード 児童生徒番号 氏名 ふりがな 性別 生年月日 学年 組 住所 保護者氏名"),
    _koumu("koumu_shusseki", "学校コード 児童生徒番号 日付 区分 理由"),
    _koumu("koumu_hokenshitsu", "学校コード 児童生徒番号 来室日時 主訴 対応"),
    _kikan(
        "soudan",
        "相談ID 相談区分 相談日 対象者宛名番号 相談者氏名 対象児童氏名 対象児童生年月日 主訴分類 概要",
    ),
    _excel(
        "ssw_soudan",
        "相談記録",
        "受付日 学校名 児童生徒氏名 学年 生年月日 相談者 対応者 主訴分類 概要",
    ),
    _excel(
        "gyakutai_tsukoku",
        "通告一覧",
        "受付日 児童氏名 ふりがな 性別 生年月日 住所 通告元 種別 対応状況",
    ),
    _excel("seiho", "受給世帯", "ケース番号 世帯主氏名 世帯主生年月日 住所 世帯人員 開始日 廃止日"),
    _excel("shugaku_enjo", "認定者", "年度 学校名 児童生徒氏名 生年月日 保護者氏名 認定区分 認定日"),
    SourceLayout(
        "kosodate_center",
        ("利用日", "保護者氏名", "子氏名", "子生年月日", "利用内容", "相談メモ"),
        encoding="utf-8",
        newline="\n",
    ),
    _kikan("zeimu", "宛名番号 年度 課税区分 総所得金額"),
)

LAYOUT_BY_SOURCE: dict[str, SourceLayout] = {layout.source: layout for layout in LAYOUTS}
