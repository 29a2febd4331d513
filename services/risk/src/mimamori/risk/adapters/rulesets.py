"""The rules shipped with risk (rulesets/*.yaml): seeded as the first versions, then revised by staff."""

from __future__ import annotations

from importlib import resources


def builtin_rule_texts() -> list[str]:
    """The text of every shipped rule document."""
    folder = resources.files("mimamori.risk") / "rulesets"
    return [
        entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]
