"""The measurement patches of bench/patches (bench/README.md, "What bounds the read at 300/s") still apply to the
code they patch: a patch that no longer applies would leave its documented measurement unrepeatable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATCHES = sorted((ROOT / "bench" / "patches").glob("*.patch"))


def test_there_are_measurement_patches() -> None:
    assert PATCHES, "bench/README.md names bench/patches/read_audit_variants.patch"


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_a_measurement_patch_applies_to_the_tree(patch: Path) -> None:
    checked = subprocess.run(
        ["git", "apply", "--check", str(patch)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, f"{patch.name} no longer applies: {checked.stderr.strip()}"
