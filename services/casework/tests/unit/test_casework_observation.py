from datetime import date

import pytest

from mimamori.casework.domain.model import MAX_TEXT, Observation, ObservationCategory, ObservationRejected

TODAY = date(2026, 4, 15)


def record(text: str = "登校時に元気がない様子", observed_on: date = TODAY) -> Observation:
    return Observation.record(
        person_id="p1",
        category=ObservationCategory.SCHOOL,
        text=text,
        observed_on=observed_on,
        recorded_by="u1",
        today=TODAY,
    )


def test_observation_keeps_text_stripped_and_author() -> None:
    observation = record("  朝食をとっていない  ")
    assert observation.text == "朝食をとっていない"
    assert observation.recorded_by == "u1"


@pytest.mark.parametrize(
    ("text", "observed_on", "code"),
    [
        ("   ", TODAY, "observation_text_empty"),
        ("あ" * (MAX_TEXT + 1), TODAY, "observation_text_too_long"),
        ("様子を確認", date(2026, 4, 16), "observation_in_future"),
    ],
)
def test_observation_is_refused_with_a_reason(text: str, observed_on: date, code: str) -> None:
    with pytest.raises(ObservationRejected) as refused:
        record(text, observed_on)
    assert refused.value.code == code
