import pytest

from mimamori.identity.domain.kana import normalise_kana


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダハナコ"),  # 基幹系: half-width katakana, half-width space
        ("やまだ はなこ", "ヤマダハナコ"),  # school system: hiragana
        ("ヤマダ　ハナコ", "ヤマダハナコ"),  # full-width space
        ("ｻﾄｳ ﾕｳﾍﾟｲ", "サトウユウペイ"),  # semi-voiced mark composes
        ("ｼﾞｮｰｼﾞ", "ジョージ"),  # long vowel mark
        ("ゔぃおら", "ヴィオラ"),
        ("いすゞ", "イスヾ"),
    ],
)
def test_kana_forms_of_one_name_share_one_key(given: str, key: str) -> None:
    assert normalise_kana(given) == key


def test_different_names_keep_different_keys() -> None:
    assert normalise_kana("ﾀﾅｶ ﾊﾅｺ") != normalise_kana("ﾀﾅｶ ﾊﾅｶ")
