"""Names, places and sentences of the synthetic town. Every entry is invented or generic."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FamilyNameEntry:
    """A family name: the common form, its registered variant forms (異体字) and its kana."""

    common: str
    kana: str
    variants: tuple[str, ...] = ()


FAMILY_NAMES: tuple[FamilyNameEntry, ...] = (
    FamilyNameEntry("佐藤", "サトウ"),
    FamilyNameEntry("鈴木", "スズキ"),
    FamilyNameEntry("高橋", "タカハシ", ("髙橋",)),
    FamilyNameEntry("田中", "タナカ"),
    FamilyNameEntry("渡辺", "ワタナベ", ("渡邊", "渡邉")),
    FamilyNameEntry("伊藤", "イトウ"),
    FamilyNameEntry("山本", "ヤマモト"),
    FamilyNameEntry("中村", "ナカムラ"),
    FamilyNameEntry("小林", "コバヤシ"),
    FamilyNameEntry("加藤", "カトウ"),
    FamilyNameEntry("吉田", "ヨシダ"),
    FamilyNameEntry("山田", "ヤマダ"),
    FamilyNameEntry("佐々木", "ササキ"),
    FamilyNameEntry("山崎", "ヤマザキ", ("山﨑",)),
    FamilyNameEntry("斎藤", "サイトウ", ("齋藤", "齊藤")),
    FamilyNameEntry("松本", "マツモト"),
    FamilyNameEntry("井上", "イノウエ"),
    FamilyNameEntry("木村", "キムラ"),
    FamilyNameEntry("清水", "シミズ"),
    FamilyNameEntry("山口", "ヤマグチ"),
    FamilyNameEntry("池田", "イケダ"),
    FamilyNameEntry("石川", "イシカワ"),
    FamilyNameEntry("小川", "オガワ"),
    FamilyNameEntry("浜田", "ハマダ", ("濵田", "濱田")),
    FamilyNameEntry("徳永", "トクナガ", ("德永",)),
    FamilyNameEntry("富田", "トミタ", ("冨田",)),
    FamilyNameEntry("辺見", "ヘンミ", ("邊見",)),
    FamilyNameEntry("宮崎", "ミヤザキ", ("宮﨑",)),
    FamilyNameEntry("長谷川", "ハセガワ"),
    FamilyNameEntry("杉山", "スギヤマ"),
    FamilyNameEntry("瀬戸", "セト"),
    FamilyNameEntry("露木", "ツユキ"),
    FamilyNameEntry("府川", "フカワ"),
    FamilyNameEntry("小沢", "オザワ", ("小澤",)),
    FamilyNameEntry("石井", "イシイ"),
    FamilyNameEntry("岩本", "イワモト"),
    FamilyNameEntry("柏木", "カシワギ"),
    FamilyNameEntry("青木", "アオキ"),
)

# 外字: registered characters outside JIS that 基幹系 keeps in the CP932 user-defined area (U+E000…).
# Each entry: common family name, its kana, and the position of the character the register holds as 外字.
GAIJI_FAMILY_NAMES: tuple[tuple[str, str, int], ...] = (
    ("吉田", "ヨシダ", 0),  # 𠮷 (土吉)
    ("辻", "ツジ", 0),  # 辻 with two dots
    ("高木", "タカギ", 0),  # a rare form of 高
)


@dataclass(frozen=True)
class GivenNameEntry:
    """A given name: the common form, kana and an optional registered variant form."""

    common: str
    kana: str
    legal: str | None = None


def _names(pairs: str) -> tuple[GivenNameEntry, ...]:
    entries = []
    for pair in pairs.split():
        text, kana = pair.split(":")
        common, _, legal = text.partition("/")
        entries.append(GivenNameEntry(common, kana, legal or None))
    return tuple(entries)


# Given names by generation (born before 1965, 1965–1999, 2000 and later) and sex (1 男, 2 女).
GIVEN_NAMES: dict[tuple[str, int], tuple[GivenNameEntry, ...]] = {
    ("elder", 1): _names(
        "清:キヨシ 茂:シゲル 勝:マサル 博:ヒロシ 実/實:ミノル 正雄:マサオ 和夫:カズオ 昭:アキラ 進:ススム"
    ),
    ("elder", 2): _names(
        "和子:カズコ 幸子:サチコ 節子:セツコ 洋子:ヨウコ 恵子:ケイコ "
        "富美子/冨美子:フミコ 久美子:クミコ 美智子:ミチコ"
    ),
    ("adult", 1): _names(
        "大輔:ダイスケ 拓也:タクヤ 健太:ケンタ 翔太:ショウタ 誠:マコト "
        "直樹:ナオキ 雄一:ユウイチ 亮:リョウ 徹:トオル"
    ),
    ("adult", 2): _names(
        "愛:アイ 恵:メグミ 彩:アヤ 舞:マイ 麻衣:マイ 美穂:ミホ 由美:ユミ 智子:トモコ 沙織:サオリ 千尋:チヒロ"
    ),
    ("young", 1): _names(
        "蓮:レン 陽翔:ハルト 湊:ミナト 悠真:ユウマ 大和:ヤマト 樹:イツキ 颯太:ソウタ "
        "陸:リク 蒼:アオイ 朝陽:アサヒ 悠人:ユウト 奏太:ソウタ 律:リツ 翼:ツバサ 晴:ハル"
    ),
    ("young", 2): _names(
        "陽葵:ヒマリ 結衣:ユイ 芽依:メイ 紬:ツムギ 凛:リン 莉子:リコ 結菜:ユイナ "
        "さくら:サクラ 葵:アオイ 心春:コハル 杏奈:アンナ 澪:ミオ 琴羽:コトハ 楓:カエデ 詩乃:シノ"
    ),
}

DISTRICTS_NORTH: tuple[str, ...] = ("延沢", "金井島", "中之名", "円通寺", "岡野", "上島")
DISTRICTS_SOUTH: tuple[str, ...] = ("吉田島", "宮台", "下島", "牛島", "榎本", "みなみ")
DISTRICTS: tuple[str, ...] = DISTRICTS_NORTH + DISTRICTS_SOUTH

BUILDINGS: tuple[str, ...] = (
    "コーポ延沢",
    "メゾン開成",
    "ハイツ吉田島",
    "グリーンヒル宮台",
    "サンライズ牛島",
    "ハイム岡野",
)

# Places outside the town, for persons who are not residents.
NEIGHBOUR_PLACES: tuple[tuple[str, str, str], ...] = (
    ("神奈川県", "", "南足柄市関本"),
    ("神奈川県", "足柄上郡", "大井町金子"),
    ("神奈川県", "", "小田原市栢山"),
)

HOSPITALS: tuple[str, ...] = ("あしがら総合病院", "小田原みなと産婦人科", "さかわ川レディースクリニック")

# (number, name, 認定区分 offered)
FACILITIES: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "ひまわり保育園", ("2号", "3号")),
    (2, "あおぞら保育園", ("2号", "3号")),
    (3, "かいせいこども園", ("1号", "2号", "3号")),
    (4, "開成さくら幼稚園", ("1号",)),
    (5, "小規模保育室こすもす", ("3号",)),
)

ATTENDANCE_REASONS: dict[str, tuple[str, ...]] = {
    "欠席": ("発熱", "体調不良", "腹痛", "頭痛", "家庭の事情", "通院", "連絡なし", ""),
    "遅刻": ("寝坊", "通院", "家庭の事情", "弟の保育園の送り", "体調不良", ""),
    "早退": ("体調不良", "通院", "家庭の事情", ""),
    "出席停止": ("インフルエンザ", "新型コロナウイルス感染症", "感染性胃腸炎"),
    "忌引": ("祖父の葬儀", "祖母の葬儀", "親族の葬儀"),
}

NURSE_COMPLAINTS: tuple[str, ...] = (
    "頭痛",
    "腹痛",
    "すり傷",
    "気分不良",
    "眠気が強い",
    "朝食を食べていない",
    "家のことで眠れていないと話す",
    "友人関係の悩み",
)
NURSE_RESPONSES: tuple[str, ...] = ("休養", "処置", "早退", "相談")

SOUDAN_SUMMARIES: dict[str, tuple[str, ...]] = {
    "ひとり親相談": (
        "児童扶養手当の手続きについて相談。",
        "仕事と育児の両立が難しいとの訴え。就労支援を案内。",
        "養育費の取り決めについて助言。",
        "離婚後の生活費について相談。各種手当を案内。",
    ),
    "子育て総合相談": (
        "祖母の介護と育児が重なり負担が大きいとの訴え。",
        "育児の負担感が強いとの訴え。一時預かりを案内。",
    ),
    "子育て総合相談:乳幼児": (
        "夜泣きが続き睡眠不足とのこと。",
        "言葉の遅れが気になるとの相談。",
        "離乳食が進まないとの相談。",
    ),
    "子育て総合相談:学齢": (
        "長子が弟妹の世話で登校が遅れがちと母より相談。",
        "登校しぶりについて相談。学校と連携予定。",
        "家庭での暴言が続くとの相談。",
    ),
    "女性相談": ("配偶者からの暴言について相談。", "住まいの確保について相談。"),
    "障害福祉相談": ("サービス利用計画の見直しについて相談。", "通所先の変更について相談。"),
}
SOUDAN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "ひとり親相談": ("経済", "就労", "養育費"),
    "子育て総合相談": ("育児", "発達", "家族関係", "不登校"),
    "女性相談": ("DV", "住まい"),
    "障害福祉相談": ("サービス利用", "生活"),
}

SSW_CATEGORIES: tuple[str, ...] = ("不登校", "家庭環境", "友人関係", "学習", "ヤングケアラー")
SSW_SUMMARIES: tuple[str, ...] = (
    "家事や弟妹の世話で睡眠時間が短いと本人が話す。",
    "登校しぶりについて保護者と面談。",
    "友人とのトラブルについて本人と面談。",
    "保護者の体調不良が続いているとのこと。関係機関と情報共有。",
    "学習への意欲低下について担任と協議。",
)

KOSODATE_MEMOS: tuple[str, ...] = (
    "離乳食の進め方について質問あり。",
    "上の子の赤ちゃん返りに困っているとのこと。",
    "母の疲れが目立つ。次回も声かけ予定。",
    "発達について心配あり。健診での相談を案内。",
)

KENSHIN_CHILD_NOTES: tuple[str, ...] = (
    "体重増加やや緩やか。次回再計測。",
    "言葉の発達を経過観察。",
    "母の疲労感が強い。地区担当保健師が訪問予定。",
    "歩行開始が遅め。発達相談を案内。",
)
KENSHIN_MOTHER_NOTES: tuple[str, ...] = (
    "つわりが強く食事量が少ない。",
    "体重増加に注意。",
    "上の子の育児との両立に不安あり。",
)
KENSHIN_MISSED_NOTE = "未受診のため電話連絡。つながらず。"
KENSHIN_TOKUTEI_NOTE = "特定妊婦として地区担当保健師が継続支援。"

ABUSE_SOURCES: tuple[str, ...] = (
    "学校",
    "保育所",
    "近隣",
    "警察",
    "医療機関",
    "児童相談所",
    "家族",
    "その他",
)
ABUSE_KINDS: tuple[str, ...] = ("身体的", "ネグレクト", "心理的", "性的")
