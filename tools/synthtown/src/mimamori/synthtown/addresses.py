"""Addresses and the ways each system writes them."""

from __future__ import annotations

import random
from dataclasses import dataclass

from mimamori.synthtown.kana import to_fullwidth_digits


@dataclass(frozen=True)
class Address:
    """A dwelling. `place` is the 町 and 大字 (開成町延沢), or a place in a neighbouring town."""

    place: str
    banchi: int
    edaban: int | None = None
    building: str | None = None
    room: int | None = None
    prefecture: str = "神奈川県"
    county: str = "足柄上郡"

    @property
    def district(self) -> str:
        """The 大字 inside 開成町 (empty for places outside the town)."""
        return self.place.removeprefix("開成町") if self.place.startswith("開成町") else ""


def registered_address(address: Address) -> str:
    """基幹系 style: 神奈川県足柄上郡開成町延沢１２３番地の４, 方書 after a full-width space."""
    number = f"{address.banchi}番地" + (f"の{address.edaban}" if address.edaban else "")
    text = f"{address.prefecture}{address.county}{address.place}{to_fullwidth_digits(number)}"
    if address.building:
        text += f"　{address.building}{to_fullwidth_digits(str(address.room))}"
    return text


def typed_address(address: Address, rng: random.Random, *, noise: bool) -> str:
    """Free style as other systems type it: 開成町延沢123-4, with or without prefecture and county."""
    number = f"{address.banchi}" + (f"-{address.edaban}" if address.edaban else "")
    if not noise:
        text = f"{address.place}{number}"
        return text + (f" {address.building}{address.room}" if address.building else "")
    prefix = rng.choice(("", "", address.county, address.prefecture + address.county))
    if rng.random() < 0.3:
        number = to_fullwidth_digits(number)
    text = f"{prefix}{address.place}{number}"
    if address.building:
        room = str(address.room)
        text += (
            rng.choice((" ", "　"))
            + address.building
            + (to_fullwidth_digits(room) if rng.random() < 0.3 else room)
        )
    return text
