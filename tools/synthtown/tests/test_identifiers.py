from __future__ import annotations

import random
from typing import Any

from mimamori.synthtown.atena import AtenaIssuer, check_digit, has_valid_check_digit


def test_check_digit_follows_modulus_11_with_weights_two_to_seven_from_the_right() -> None:
    # 9·2 + 8·3 + 7·4 + 6·5 + 5·6 + 4·7 + 3·2 + 2·3 + 1·4 = 174; 174 mod 11 = 9; 11 − 9 = 2
    assert check_digit("123456789") == 2
    assert has_valid_check_digit("1234567892")
    assert not has_valid_check_digit("1234567893")
    assert check_digit("000000000") == 0  # remainder 0 → 0
    assert check_digit("000000006") == 0  # 6·2 = 12, remainder 1 → 0
    assert check_digit("000000005") == 1  # 5·2 = 10, remainder 10 → 11 − 10 = 1


def test_issued_numbers_are_unique_and_legacy_ones_fail_the_check() -> None:
    issuer = AtenaIssuer(random.Random(3))
    standard = [issuer.standard() for _ in range(2000)]
    legacy = [issuer.legacy() for _ in range(200)]
    assert len(set(standard + legacy)) == 2200
    assert all(len(number) == 10 and number.isdigit() for number in standard + legacy)
    assert all(has_valid_check_digit(number) for number in standard)
    assert not any(has_valid_check_digit(number) for number in legacy)


def test_atena_in_jumin_carry_a_valid_check_digit_where_truth_claims_the_standard(town: Any) -> None:
    rows = town.rows("jumin", town.truth.months[-1])
    by_atena = town.truth.by_atena()
    standard = [row["宛名番号"] for row in rows if by_atena[row["宛名番号"]].atena_standard]
    older = [row["宛名番号"] for row in rows if not by_atena[row["宛名番号"]].atena_standard]
    assert standard and older
    assert all(has_valid_check_digit(number) for number in standard)
    assert not any(has_valid_check_digit(number) for number in older)
    assert len({row["宛名番号"] for row in rows}) == len(rows)
    assert all(len(row["世帯コード"]) == 10 and row["世帯コード"].isdigit() for row in rows)
