"""Labelled data for the identity benchmark: a resident snapshot, a school roll and the truth between them.

Deterministic from a seed, streamed in bounded memory (the residents are written as they are made; only the
school-age children who end up on the roll are held, by reservoir sampling). Both identity benchmarks, ours
(services/identity) and Splink's (bench/identity_splink.py), read the same three files and score with the same
`evaluate`, so their numbers compare.

    residents.csv  jumin layout (shared/sources/README.md §1): CP932, CRLF, legal names with variant kanji and
                   a few 外字 (U+E000–U+E757), half-width katakana, sex 1/2, YYYYMMDD (a few partly unknown),
                   基幹系 addresses (神奈川県足柄上郡開成町延沢１２３番地の４　メゾン開成１０１).
    pupils.csv     koumu_meibo layout (§10) with a leading `pupil_id`: UTF-8 with BOM, LF, names typed in common
                   forms, hiragana ふりがな, 男/女, YYYY-MM-DD, free-style addresses, and the noise listed in NOISE.
    truth.csv      pupil_id, atena_no (empty: not a resident), tags (`|`-separated noise and hard cases).
    manifest.json  seed, sizes, tag counts, generation time.

Usage: python bench/identity_data.py --out /tmp/identity --size 1000000 --pupils 200000 --seed 1
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

from mimamori.synthtown.atena import AtenaIssuer, HouseholdCodeIssuer
from mimamori.synthtown.kana import to_fullwidth_digits, to_halfwidth_katakana, to_hiragana
from mimamori.synthtown.layouts import LAYOUT_BY_SOURCE
from mimamori.synthtown.vocabulary import (
    BUILDINGS,
    DISTRICTS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    NEIGHBOUR_PLACES,
)

TODAY = date(2026, 4, 30)  # the snapshot day: 令和8年度, grades by the school year starting 2026-04-01
SCHOOL_YEAR = 2026
PREFECTURE, COUNTY, TOWN = "神奈川県", "足柄上郡", "開成町"

# Rates of the pupil-side noise (per pupil on the roll who is a resident); each leaves a tag in truth.csv.
NOISE: dict[str, float] = {
    "legal_form": 0.03,  # the roll copies the registered variant form (髙橋) instead of the common one
    "kana_typo": 0.02,  # one kana character of the ふりがな mistyped
    "kanji_typo": 0.005,  # given name typed with other kanji of the same reading (陽翔 → 晴翔)
    "dob_typo": 0.005,  # birth date mistyped (a day off, day/month swapped, a year off)
    "name_change": 0.007,  # the roll keeps a family name the register no longer has (or not yet)
    "moved": 0.015,  # the roll still has an older address in the town
    "sex_error": 0.001,  # 男/女 wrong
}
NON_RESIDENT_SHARE = 0.01  # pupils on the roll who are in no resident record (区域外就学 and the like)
SAME_NAME_PLANTS = 0.004  # family households given a child with the name and birth date of an earlier child


@dataclass(frozen=True)
class Family:
    common: str
    kana: str
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Given:
    common: str
    kana: str
    legal: str | None = None


def _families(text: str) -> tuple[Family, ...]:
    """`common:カナ[/variant...]` entries separated by spaces."""
    entries = []
    for item in text.split():
        common, rest = item.split(":")
        kana, *variants = rest.split("/")
        entries.append(Family(common, kana, tuple(variants)))
    return tuple(entries)


def _givens(text: str) -> tuple[Given, ...]:
    entries = []
    for item in text.split():
        common, kana = item.split(":")
        entries.append(Given(common, kana))
    return tuple(entries)


# synthtown's names first (with their registered variants), then more, so that a million people do not share
# a few hundred name combinations. Some different names share a reading (斎藤/斉藤, 渡辺/渡部, 菊地/菊池).
EXTRA_FAMILIES = _families(
    "林:ハヤシ 森:モリ 阿部:アベ 橋本:ハシモト 山下:ヤマシタ 中島:ナカジマ 前田:マエダ 岡田:オカダ 藤田:フジタ "
    "後藤:ゴトウ 近藤:コンドウ 村上:ムラカミ 遠藤:エンドウ 坂本:サカモト 斉藤:サイトウ 福田:フクダ 太田:オオタ "
    "西村:ニシムラ 藤井:フジイ 金子:カネコ 岡本:オカモト 藤原:フジワラ 中野:ナカノ 三浦:ミウラ 原田:ハラダ "
    "中川:ナカガワ 松田:マツダ 竹内:タケウチ 小野:オノ 田村:タムラ 中山:ナカヤマ 和田:ワダ 石田:イシダ 森田:モリタ "
    "上田:ウエダ 原:ハラ 内田:ウチダ 柴田:シバタ 酒井:サカイ 横山:ヨコヤマ 高木:タカギ/髙木 安藤:アンドウ "
    "宮本:ミヤモト 大野:オオノ 小島:コジマ 谷口:タニグチ 今井:イマイ 工藤:クドウ 高田:タカダ/髙田 増田:マスダ "
    "丸山:マルヤマ 村田:ムラタ 大塚:オオツカ 新井:アライ 小山:コヤマ 平野:ヒラノ 藤本:フジモト 河野:コウノ "
    "上野:ウエノ 野口:ノグチ 武田:タケダ 松井:マツイ 千葉:チバ 岩崎:イワサキ/岩﨑 菅原:スガワラ 木下:キノシタ "
    "久保:クボ 佐野:サノ 野村:ノムラ 松尾:マツオ 市川:イチカワ 菊地:キクチ 杉本:スギモト 古川:フルカワ 大西:オオニシ "
    "島田:シマダ 水野:ミズノ 桜井:サクライ/櫻井 高野:タカノ/髙野 渡部:ワタナベ 吉川:ヨシカワ 山内:ヤマウチ "
    "西田:ニシダ 飯田:イイダ 菊池:キクチ 西川:ニシカワ 小松:コマツ 北村:キタムラ 安田:ヤスダ 五十嵐:イガラシ "
    "川口:カワグチ 平田:ヒラタ 関:セキ 中田:ナカタ 久保田:クボタ 服部:ハットリ 東:アズマ 岩田:イワタ 土屋:ツチヤ "
    "川村:カワムラ 福島:フクシマ 本田:ホンダ 辻:ツジ 樋口:ヒグチ 秋山:アキヤマ 田口:タグチ 永井:ナガイ 山中:ヤマナカ "
    "中西:ナカニシ 吉村:ヨシムラ 川上:カワカミ 石原:イシハラ 大橋:オオハシ 松岡:マツオカ 馬場:ババ 浅野:アサノ "
    "荒木:アラキ 大久保:オオクボ 野田:ノダ 小池:コイケ 沢田:サワダ/澤田 広田:ヒロタ/廣田 国分:コクブ/國分 "
    "柳沢:ヤナギサワ/栁沢/柳澤 長沢:ナガサワ/長澤 藤沢:フジサワ/藤澤 黒田:クロダ/黑田 桑原:クワバラ "
    "島崎:シマザキ/島﨑 高山:タカヤマ/髙山 高瀬:タカセ/髙瀬 浜口:ハマグチ/濵口/濱口 富永:トミナガ/冨永 "
    "徳田:トクダ/德田 大川:オオカワ 星野:ホシノ 片山:カタヤマ 松下:マツシタ 岡崎:オカザキ/岡﨑 内藤:ナイトウ "
    "望月:モチヅキ 小田:オダ 黒木:クロキ 堀:ホリ 今村:イマムラ 三宅:ミヤケ 松村:マツムラ 熊谷:クマガイ "
    "宮田:ミヤタ 大島:オオシマ 北川:キタガワ 杉浦:スギウラ 新田:ニッタ 菅野:カンノ 成田:ナリタ 岸:キシ"
)
FAMILIES: tuple[Family, ...] = tuple(Family(e.common, e.kana, e.variants) for e in FAMILY_NAMES) + EXTRA_FAMILIES
# Zipf-like popularity: the first names of the list are the most frequent.
FAMILY_CUM_WEIGHTS = tuple(accumulate(1 / (rank + 8) for rank in range(len(FAMILIES))))

EXTRA_GIVEN: dict[tuple[str, int], tuple[Given, ...]] = {
    ("elder", 1): _givens("勇:イサム 武:タケシ 隆:タカシ 弘:ヒロシ 修:オサム 明:アキラ 稔:ミノル 豊:ユタカ"),
    ("elder", 2): _givens("京子:キョウコ 明美:アケミ 由美子:ユミコ 裕子:ユウコ 直子:ナオコ 順子:ジュンコ 悦子:エツコ"),
    ("adult", 1): _givens(
        "達也:タツヤ 和也:カズヤ 剛:ツヨシ 大介:ダイスケ 聡:サトシ 慎也:シンヤ 浩二:コウジ 健一:ケンイチ "
        "智也:トモヤ 裕太:ユウタ 翔:ショウ 大樹:ダイキ 拓海:タクミ 健:ケン"
    ),
    ("adult", 2): _givens(
        "香織:カオリ 真由美:マユミ 陽子:ヨウコ 直美:ナオミ 早苗:サナエ 綾:アヤ 瞳:ヒトミ 奈々:ナナ "
        "美紀:ミキ 由香:ユカ 優子:ユウコ 明日香:アスカ 萌:モエ 遥:ハルカ"
    ),
    ("young", 1): _givens(
        "大翔:ヒロト 結翔:ユイト 悠斗:ユウト 陽向:ヒナタ 蒼空:ソラ 湊斗:ミナト 颯:ハヤテ 蒼真:ソウマ 新:アラタ "
        "碧:アオイ 翔:ショウ 瑛太:エイタ 陽太:ヨウタ 優斗:ユウト 琉生:ルイ 海斗:カイト 拓海:タクミ 大輝:ダイキ "
        "颯真:ソウマ 湊人:ミナト 陽斗:ハルト 遥斗:ハルト 春輝:ハルキ 優:ユウ 航:ワタル 匠:タクミ 隼人:ハヤト "
        "一輝:カズキ 和真:カズマ 晴翔:ハルト 仁:ジン 奏:カナデ 岳:ガク 凪:ナギ 蒼介:ソウスケ 柊:シュウ 慶:ケイ "
        "悠:ユウ 翔太:ショウタ 健太:ケンタ 空:ソラ 理人:リヒト 壮真:ソウマ 光:ヒカル 智也:トモヤ"
    ),
    ("young", 2): _givens(
        "陽菜:ヒナ 結愛:ユア 美桜:ミオ 芽生:メイ 花:ハナ 咲良:サクラ 莉央:リオ 心結:ミユ 彩花:アヤカ 美咲:ミサキ "
        "愛莉:アイリ 七海:ナナミ 結月:ユヅキ 杏:アン 美月:ミヅキ 日葵:ヒマリ 芽衣:メイ 陽奈:ヒナ 紗希:サキ 真央:マオ "
        "優奈:ユウナ 莉緒:リオ 彩乃:アヤノ 花音:カノン 千晴:チハル 柚希:ユズキ 美羽:ミウ 小春:コハル 菜月:ナツキ "
        "朱莉:アカリ あかり:アカリ 心愛:ココア 遥:ハルカ 凪沙:ナギサ 叶:カナエ ひなた:ヒナタ 結:ユイ 桜:サクラ "
        "詩:ウタ 美優:ミユ 里奈:リナ 楓花:フウカ 茉莉:マリ 咲希:サキ"
    ),
}
GIVENS: dict[tuple[str, int], tuple[Given, ...]] = {
    key: tuple(Given(e.common, e.kana, e.legal) for e in GIVEN_NAMES[key]) + EXTRA_GIVEN[key] for key in GIVEN_NAMES
}
GIVEN_CUM_WEIGHTS = {
    key: tuple(accumulate(1 / (rank + 6) for rank in range(len(names)))) for key, names in GIVENS.items()
}
# Same reading, other kanji: what a kanji typo on the roll turns a given name into.
SAME_READING: dict[str, tuple[str, ...]] = {}
for _names in GIVENS.values():
    for _g in _names:
        SAME_READING[_g.common] = tuple(
            sorted({o.common for o in _names if o.kana == _g.kana and o.common != _g.common})
        )

EXTRA_DISTRICTS = [
    "金子",
    "河原町",
    "新田",
    "中島",
    "宮前",
    "栄町",
    "本町",
    "桜台",
    "緑町",
    "若葉台",
    "富士見",
    "松が丘",
    "東原",
    "西原",
    "南台",
    "北原",
    "川端",
    "堀ノ内",
    "竹ノ下",
    "柳町",
    "山王",
    "明神",
    "天神",
    "八幡",
    "大門",
    "小竹",
    "田島",
    "清水町",
]
ALL_DISTRICTS: tuple[str, ...] = DISTRICTS + tuple(EXTRA_DISTRICTS)
BANCHI_MAX = 3000


# ---------------------------------------------------------------------------------------------------- writing


_HALF_KANA_CACHE: dict[str, str] = {}


def half_kana(kana: str) -> str:
    """Full-width katakana → half-width (cached: the vocabularies are small)."""
    cached = _HALF_KANA_CACHE.get(kana)
    if cached is None:
        cached = _HALF_KANA_CACHE[kana] = to_halfwidth_katakana(kana)
    return cached


@dataclass(frozen=True)
class Address:
    district: str
    banchi: int
    edaban: int | None
    building: str | None
    room: int | None


def registered_address(a: Address) -> str:
    """基幹系: 神奈川県足柄上郡開成町延沢１２３番地の４　メゾン開成１０１."""
    number = f"{a.banchi}番地" + (f"の{a.edaban}" if a.edaban else "")
    text = f"{PREFECTURE}{COUNTY}{TOWN}{a.district}{to_fullwidth_digits(number)}"
    if a.building:
        text += f"　{a.building}{to_fullwidth_digits(str(a.room))}"
    return text


def typed_address(a: Address, rng: random.Random, *, town: str = TOWN, county: str = COUNTY) -> str:
    """School roll: 開成町延沢123-4, with or without county/prefecture, half- or full-width, room after a space."""
    number = f"{a.banchi}" + (f"-{a.edaban}" if a.edaban else "")
    prefix = rng.choice(("", "", county, PREFECTURE + county))
    if rng.random() < 0.3:
        number = to_fullwidth_digits(number)
    text = f"{prefix}{town}{a.district}{number}"
    if a.building:
        room = str(a.room)
        text += rng.choice((" ", "　")) + a.building + (to_fullwidth_digits(room) if rng.random() < 0.3 else room)
    return text


def _random_address(rng: random.Random) -> Address:
    building = rng.choice(BUILDINGS) if rng.random() < 0.25 else None
    return Address(
        rng.choice(ALL_DISTRICTS),
        rng.randint(1, BANCHI_MAX),
        rng.randint(1, 30) if rng.random() < 0.5 else None,
        building,
        rng.randint(101, 305) if building else None,
    )


def _ymd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def school_grade(birth: date) -> int:
    """学年 in the school year SCHOOL_YEAR (1–9 on the roll; children born 2 April–1 April share a grade)."""
    cohort = birth.year if (birth.month, birth.day) >= (4, 2) else birth.year - 1
    return SCHOOL_YEAR - cohort - 6


def _generation(birth: date) -> str:
    return "elder" if birth.year < 1965 else "adult" if birth.year < 2000 else "young"


# ------------------------------------------------------------------------------------------------- population


@dataclass(slots=True)
class Member:
    relation: str
    sex: int
    birth: date
    family: Family
    given: Given | None = None
    twin: bool = False
    same_name: bool = False


@dataclass(frozen=True, slots=True)
class Child:
    """A school-age resident held in the reservoir: what the roll needs to write its row, and the truth."""

    atena: str
    family: Family
    given: Given
    legal_name: str  # as the register holds it (variant kanji, 外字)
    sex: int
    birth: date
    address: Address
    guardian: str  # the head's name in common form
    tags: tuple[str, ...]


class _Reservoir:
    """Algorithm R: a uniform sample of exactly k items from a stream of unknown length, in O(k) memory."""

    def __init__(self, k: int, rng: random.Random) -> None:
        self.k, self.rng, self.seen, self.items = k, rng, 0, list[Child]()

    def offer(self, item: Child) -> None:
        if self.seen < self.k:
            self.items.append(item)
        else:
            j = self.rng.randrange(self.seen + 1)
            if j < self.k:
                self.items[j] = item
        self.seen += 1


def _pick_given(rng: random.Random, birth: date, sex: int, taken: set[str]) -> Given:
    key = (_generation(birth), sex)
    for _ in range(20):
        given = rng.choices(GIVENS[key], cum_weights=GIVEN_CUM_WEIGHTS[key])[0]
        if given.common not in taken:
            return given
    return given


def _days(rng: random.Random, years_low: float, years_high: float) -> timedelta:
    return timedelta(days=rng.randint(int(365.25 * years_low), int(365.25 * years_high)))


class Population:
    """Households one after another; `rows()` yields jumin rows and offers school-age children to a reservoir."""

    def __init__(self, seed: int, n_residents: int, reservoir: _Reservoir) -> None:
        self.rng = random.Random(f"{seed}:residents")
        self.n_residents = n_residents
        self.reservoir = reservoir
        self.atena = AtenaIssuer(random.Random(self.rng.random()))
        self.codes = HouseholdCodeIssuer(random.Random(self.rng.random()))
        self.recent: list[tuple[Family, Given, int, date]] = []  # school-age identities, for same-name plants
        self.school_age_keys: Counter[tuple[str, str, date]] = Counter()
        self.school_age = 0
        self.gaiji_families: dict[str, str] = {}

    def _family(self) -> Family:
        return self.rng.choices(FAMILIES, cum_weights=FAMILY_CUM_WEIGHTS)[0]

    def _registered_family(self, family: Family) -> str:
        rng = self.rng
        if rng.random() < 0.002:  # 外字: one character of the registered name is outside JIS
            return chr(0xE000 + rng.randrange(0x758)) + family.common[1:]
        if family.variants and rng.random() < 0.5:
            return rng.choice(family.variants)
        return family.common

    def _members(self) -> list[Member]:
        rng = self.rng
        kind = rng.choices(("single", "couple", "family", "three"), (0.18, 0.10, 0.61, 0.11))[0]
        family = self._family()
        if kind == "single":
            birth = TODAY - _days(rng, 18, 92)
            return [Member("世帯主", rng.choice((1, 2)), birth, family)]
        if kind == "couple":
            birth = TODAY - _days(rng, 22, 88)
            return [Member("世帯主", 1, birth, family), Member("妻", 2, birth + _days(rng, -3, 6), family)]
        members: list[Member] = []
        n_children = rng.choices((1, 2, 3, 4), (0.28, 0.42, 0.23, 0.07))[0]
        oldest = TODAY - _days(rng, 4, 19)
        births = [oldest]
        for i in range(1, n_children):
            if rng.random() < 0.02:
                births.append(births[i - 1])  # twins
            else:
                births.append(min(TODAY - timedelta(days=30), births[i - 1] + _days(rng, 1, 6)))
        parent_birth = oldest - _days(rng, 24, 42)
        child_relation = "子"
        if kind == "three":
            grand = parent_birth - _days(rng, 24, 34)
            members += [Member("世帯主", 1, grand, family), Member("妻", 2, grand + _days(rng, -2, 5), family)]
            members += [
                Member("子", 1, parent_birth, family),
                Member("子の妻", 2, parent_birth + _days(rng, -3, 5), family),
            ]
            child_relation = "孫"
        elif rng.random() < 0.1:
            members.append(Member("世帯主", 2, parent_birth, family))  # a single mother
        else:
            members += [
                Member("世帯主", 1, parent_birth, family),
                Member("妻", 2, parent_birth + _days(rng, -3, 5), family),
            ]
        taken: set[str] = set()
        children = []
        for birth in births:
            sex = rng.choice((1, 2))
            given = _pick_given(rng, birth, sex, taken)
            taken.add(given.common)
            twin = births.count(birth) > 1
            children.append(Member(child_relation, sex, birth, family, given, twin=twin))
        if self.recent and rng.random() < SAME_NAME_PLANTS:
            # another family of the same name has a child with the same given name and birth date
            p_family, p_given, p_sex, p_birth = rng.choice(self.recent)
            for m in members:
                m.family = p_family
            first = Member(child_relation, p_sex, p_birth, p_family, p_given, same_name=True)
            children = [first] + [c for c in children[1:] if c.birth != p_birth]
            for c in children:
                c.family = p_family
        return members + children

    def rows(self) -> Iterator[tuple[str, ...]]:
        rng = self.rng
        written = 0
        while written < self.n_residents:
            members = self._members()
            code = self.codes.issue()
            address = _random_address(rng)
            written_address = registered_address(address)
            registered = self._registered_family(members[0].family)
            gaiji = "\ue000" <= registered[0] <= "\uf8ff"
            removed = rng.random() < 0.03
            dv = rng.random() < 0.0005
            head = members[0]
            head_given = head.given or _pick_given(rng, head.birth, head.sex, set())
            head.given = head_given
            guardian = f"{head.family.common}　{head_given.common}"
            for m in members:
                if written >= self.n_residents:
                    return
                given = m.given or _pick_given(rng, m.birth, m.sex, set())
                m.given = given
                legal = f"{registered}　{given.legal or given.common}"
                atena = self.atena.standard() if rng.random() < 0.9 else self.atena.legacy()
                birth_text = _ymd(m.birth)
                if m.birth.year < 1950 and rng.random() < 0.05:  # partly unknown (住民記録 standard)
                    birth_text = (
                        f"{m.birth.year:04d}0000" if rng.random() < 0.5 else f"{m.birth.year:04d}{m.birth.month:02d}00"
                    )
                since = max(m.birth, TODAY - timedelta(days=rng.randint(30, 40 * 365)))
                reason = "出生" if since == m.birth else "転入"
                yield (
                    atena,
                    code,
                    legal,
                    f"{half_kana(m.family.kana)} {half_kana(given.kana)}",
                    str(m.sex),
                    birth_text,
                    m.relation,
                    written_address,
                    _ymd(since),
                    "転出" if removed else reason,
                    _ymd(TODAY - timedelta(days=rng.randint(1, 200)) if removed else since),
                    "消除" if removed else "住民",
                    "1" if dv else "",
                )
                written += 1
                if not removed and 1 <= school_grade(m.birth) <= 9:
                    self.school_age += 1
                    self.school_age_keys[(m.family.common, given.common, m.birth)] += 1
                    tags = ("twin",) * m.twin + ("same_name_planted",) * m.same_name
                    tags += ("gaiji",) if gaiji else ("variant_kanji",) * (registered != m.family.common)
                    self.reservoir.offer(Child(atena, m.family, given, legal, m.sex, m.birth, address, guardian, tags))
                    self.recent.append((m.family, given, m.sex, m.birth))
                    if len(self.recent) > 2000:
                        self.recent = self.recent[-1000:]


# --------------------------------------------------------------------------------------------------- the roll

ROLL_HEADERS = ("pupil_id", *LAYOUT_BY_SOURCE["koumu_meibo"].headers)
_SMALL_TO_LARGE = str.maketrans("ァィゥェォッャュョ", "アイウエオツヤユヨ")
_VOICING = dict(
    zip("カキクケコサシスセソタチツテトハヒフヘホ", "ガギグゲゴザジズゼゾダヂヅデドバビブベボ", strict=True)
)
_VOICING |= {v: k for k, v in list(_VOICING.items())}
_KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"


def kana_typo(kana: str, rng: random.Random) -> str:
    """One kana character mistyped: voicing dropped or added, ー or ウ lost or added, or another kana."""
    i = rng.randrange(len(kana))
    c = kana[i]
    roll = rng.random()
    if c in _VOICING and roll < 0.5:
        return kana[:i] + _VOICING[c] + kana[i + 1 :]
    if c in "ウー" and roll < 0.7 and len(kana) > 2:
        return kana[:i] + kana[i + 1 :]
    if roll < 0.2 and c.translate(_SMALL_TO_LARGE) != c:
        return kana[:i] + c.translate(_SMALL_TO_LARGE) + kana[i + 1 :]
    return kana[:i] + rng.choice([k for k in _KATAKANA if k != c]) + kana[i + 1 :]


def _dob_typo(birth: date, rng: random.Random) -> date:
    kind = rng.random()
    try:
        if kind < 0.4:
            return birth + timedelta(days=rng.choice((-1, 1)))
        if kind < 0.7 and birth.day <= 12 and birth.day != birth.month:
            return birth.replace(month=birth.day, day=birth.month)
        if kind < 0.85:
            return birth.replace(year=birth.year + rng.choice((-1, 1)))
        return birth.replace(day=(birth.day % 28) + 1 if birth.day != 11 else 1)
    except ValueError:
        return birth + timedelta(days=1)


def typed_name(family: str, given: str, rng: random.Random) -> str:
    """As the school types it: a full-width space mostly, sometimes a half-width one, none, or a trailing one."""
    separator = rng.choices(("　", " ", ""), (0.77, 0.15, 0.08))[0]
    return f"{family}{separator}{given}" + (" " if rng.random() < 0.02 else "")


def typed_furigana(family_kana: str, given_kana: str, rng: random.Random) -> str:
    """ふりがな: hiragana with a half-width space mostly; a full-width space, none, or katakana now and then."""
    roll = rng.random()
    if roll < 0.03:
        return f"{family_kana}　{given_kana}"  # typed in katakana
    text = to_hiragana(f"{family_kana} {given_kana}")
    if roll < 0.08:
        return text.replace(" ", "　")
    if roll < 0.10:
        return text.replace(" ", "")
    return text


def _school(address: Address, grade: int) -> str:
    district = ALL_DISTRICTS.index(address.district) if address.district in ALL_DISTRICTS else 0
    kind, number = ("B1", district // 2) if grade <= 6 else ("C1", district // 4)
    return f"{kind}14366{number:06d}"  # 13 characters like synthtown's invented codes


@dataclass(frozen=True)
class RollEntry:
    row: tuple[str, ...]  # without pupil_id
    atena: str
    tags: tuple[str, ...]


def _roll_entry(child: Child, rng: random.Random, same_name_counts: Mapping[tuple[str, str, date], int]) -> RollEntry:
    tags = list(child.tags)
    if same_name_counts.get((child.family.common, child.given.common, child.birth), 0) > 1:
        tags.append("same_name_dob")
    family, given = child.family, child.given
    if rng.random() < NOISE["name_change"]:
        family = rng.choices(FAMILIES, cum_weights=FAMILY_CUM_WEIGHTS)[0]
        if family != child.family:
            tags.append("name_change")
    family_text, given_text = family.common, given.common
    if "gaiji" not in tags and family == child.family and rng.random() < NOISE["legal_form"]:
        family_text, _, given_text = child.legal_name.partition("　")
        if family_text != family.common or given_text != given.common:
            tags.append("legal_form")
    if rng.random() < NOISE["kanji_typo"] and SAME_READING.get(given.common):
        given_text = rng.choice(SAME_READING[given.common])
        tags.append("kanji_typo")
    family_kana, given_kana = family.kana, given.kana
    if rng.random() < NOISE["kana_typo"]:
        if rng.random() < 0.5:
            family_kana = kana_typo(family_kana, rng)
        else:
            given_kana = kana_typo(given_kana, rng)
        tags.append("kana_typo")
    birth = child.birth
    if rng.random() < NOISE["dob_typo"]:
        birth = _dob_typo(birth, rng)
        if birth != child.birth:
            tags.append("dob_typo")
    sex = child.sex
    if rng.random() < NOISE["sex_error"]:
        sex = 3 - sex
        tags.append("sex_error")
    address = child.address
    if rng.random() < NOISE["moved"]:
        address = _random_address(rng)
        tags.append("moved")
    grade = school_grade(child.birth)
    row = (
        _school(address, grade),
        "",  # 児童生徒番号, numbered per school once the roll is in order
        typed_name(family_text, given_text, rng),
        typed_furigana(family_kana, given_kana, rng),
        "男" if sex == 1 else "女",
        birth.isoformat(),
        str(grade),
        str(rng.randint(1, 4)),
        typed_address(address, rng),
        child.guardian if rng.random() < 0.9 else child.guardian.replace("　", " "),
    )
    return RollEntry(row, child.atena, tuple(tags) or ("plain",))


def _non_resident(rng: random.Random, residents: list[Child]) -> RollEntry:
    """A pupil in no resident record: from a neighbouring town, some with a resident child's name."""
    tags = ["nonresident"]
    sex = rng.choice((1, 2))
    birth = date(SCHOOL_YEAR - 6 - rng.randint(1, 9), 4, 2) + timedelta(days=rng.randint(0, 364))
    family = rng.choices(FAMILIES, cum_weights=FAMILY_CUM_WEIGHTS)[0]
    given = _pick_given(rng, birth, sex, set())
    roll = rng.random()
    if residents and roll < 0.3:
        twin = rng.choice(residents)  # same name as a resident child, another birth date
        family, given, sex = twin.family, twin.given, twin.sex
        birth = twin.birth + timedelta(days=rng.choice((-1, 1)) * rng.randint(30, 700))
        tags.append("namesake")
        if roll < 0.05:
            birth = twin.birth  # same name and birth date, another town
            tags.append("namesake_dob")
    _, county, place = rng.choice(NEIGHBOUR_PLACES)
    cut = min(i for i in (place.find("市"), place.find("町")) if i >= 0) + 1
    town, district = place[:cut], place[cut:]
    if rng.random() < 0.3:
        town, county, district = TOWN, COUNTY, rng.choice(ALL_DISTRICTS)  # lives in the town, not registered
    address = Address(district, rng.randint(1, BANCHI_MAX), rng.choice((None, rng.randint(1, 30))), None, None)
    grade = school_grade(birth)
    guardian_given = _pick_given(rng, birth - timedelta(days=365 * 32), rng.choice((1, 2)), set())
    row = (
        _school(Address(rng.choice(ALL_DISTRICTS), 1, None, None, None), grade),
        "",
        typed_name(family.common, given.common, rng),
        typed_furigana(family.kana, given.kana, rng),
        "男" if sex == 1 else "女",
        birth.isoformat(),
        str(grade),
        str(rng.randint(1, 4)),
        typed_address(address, rng, town=town, county=county),
        f"{family.common}　{guardian_given.common}",
    )
    return RollEntry(row, "", tuple(tags))


# ------------------------------------------------------------------------------------------------------- main


def generate(out: Path, *, size: int = 1_000_000, pupils: int = 200_000, seed: int = 1) -> dict[str, object]:
    """Write residents.csv, pupils.csv, truth.csv and manifest.json into `out`; return the manifest."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    n_non_resident = round(pupils * NON_RESIDENT_SHARE)
    reservoir = _Reservoir(pupils - n_non_resident, random.Random(f"{seed}:reservoir"))
    population = Population(seed, size, reservoir)
    jumin = LAYOUT_BY_SOURCE["jumin"]
    with (out / "residents.csv").open("w", encoding=jumin.encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator=jumin.newline)
        writer.writerow(jumin.headers)
        writer.writerows(population.rows())
    if len(reservoir.items) < reservoir.k:
        raise ValueError(f"only {len(reservoir.items)} school-age residents for {reservoir.k} resident pupils")
    rng = random.Random(f"{seed}:roll")
    entries = [_roll_entry(child, rng, population.school_age_keys) for child in reservoir.items]
    entries += [_non_resident(rng, reservoir.items) for _ in range(n_non_resident)]
    rng.shuffle(entries)
    numbers: Counter[str] = Counter()
    koumu = LAYOUT_BY_SOURCE["koumu_meibo"]
    tag_counts: Counter[str] = Counter()
    with (
        (out / "pupils.csv").open("w", encoding=koumu.encoding, newline="") as roll_handle,
        (out / "truth.csv").open("w", encoding="utf-8", newline="") as truth_handle,
    ):
        roll = csv.writer(roll_handle, lineterminator=koumu.newline)
        truth = csv.writer(truth_handle, lineterminator="\n")
        roll.writerow(ROLL_HEADERS)
        truth.writerow(("pupil_id", "atena_no", "tags"))
        for i, entry in enumerate(entries, 1):
            pupil_id = f"P{i:07d}"
            school = entry.row[0]
            numbers[school] += 1
            roll.writerow((pupil_id, school, f"{numbers[school]:06d}", *entry.row[2:]))
            truth.writerow((pupil_id, entry.atena, "|".join(entry.tags)))
            tag_counts.update(entry.tags)
    manifest: dict[str, object] = {
        "seed": seed,
        "snapshot_day": TODAY.isoformat(),
        "residents": size,
        "school_age_residents": population.school_age,
        "pupils": len(entries),
        "pupils_resident": len(entries) - n_non_resident,
        "pupils_non_resident": n_non_resident,
        "noise_rates": NOISE,
        "tags": dict(sorted(tag_counts.items())),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def ensure(out: Path, *, size: int, pupils: int, seed: int) -> dict[str, object]:
    """Generate into `out` unless a manifest there already says these sizes and seed; return the manifest."""
    path = out / "manifest.json"
    if path.exists():
        manifest: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        if (manifest.get("residents"), manifest.get("pupils"), manifest.get("seed")) == (size, pupils, seed):
            return manifest
    return generate(out, size=size, pupils=pupils, seed=seed)


# ---------------------------------------------------------------------------------------------------- scoring


def load_truth(out: Path) -> tuple[dict[str, str | None], dict[str, tuple[str, ...]]]:
    """truth.csv as {pupil_id: atena_no or None} and {pupil_id: tags}."""
    links: dict[str, str | None] = {}
    tags: dict[str, tuple[str, ...]] = {}
    with (out / "truth.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            links[row["pupil_id"]] = row["atena_no"] or None
            tags[row["pupil_id"]] = tuple(row["tags"].split("|")) if row["tags"] else ()
    return links, tags


def evaluate(
    links: Mapping[str, str | None],
    truth: Mapping[str, str | None],
    tags: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, object]:
    """Score automatic links (pupil_id → atena_no, None or absent = not linked) against the truth.

    precision = right links / links made; recall = right links / pupils who are residents. A link to the wrong
    resident and a link of a non-resident are both false; per tag, the same counts for the pupils with the tag.
    """

    def score(ids: list[str]) -> dict[str, object]:
        made = right = wrong_person = non_resident_linked = missed = residents = 0
        for pupil in ids:
            expected, got = truth[pupil], links.get(pupil)
            residents += expected is not None
            if got is None:
                missed += expected is not None
                continue
            made += 1
            if got == expected:
                right += 1
            elif expected is None:
                non_resident_linked += 1
            else:
                wrong_person += 1
        return {
            "pupils": len(ids),
            "residents": residents,
            "links": made,
            "right": right,
            "wrong_person": wrong_person,
            "non_resident_linked": non_resident_linked,
            "missed": missed,
            "precision": round(right / made, 5) if made else None,
            "recall": round(right / residents, 5) if residents else None,
        }

    unknown = set(links) - set(truth)
    if unknown:
        raise ValueError(f"{len(unknown)} linked pupil ids are not in the truth, e.g. {sorted(unknown)[:3]}")
    result = score(list(truth))
    if tags is not None:
        by_tag: dict[str, list[str]] = {}
        for pupil, pupil_tags in tags.items():
            for tag in pupil_tags:
                by_tag.setdefault(tag, []).append(pupil)
        result["by_tag"] = {tag: score(ids) for tag, ids in sorted(by_tag.items())}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=1_000_000, help="residents")
    parser.add_argument("--pupils", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    manifest = generate(args.out, size=args.size, pupils=args.pupils, seed=args.seed)
    print(json.dumps(manifest, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
