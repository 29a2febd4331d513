from __future__ import annotations

from pathlib import Path

from mimamori.synthtown import generate_town


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_same_seed_writes_identical_bytes_including_xlsx_and_truth(tmp_path: Path) -> None:
    for run in ("a", "b"):
        generate_town(seed=11, households=80, months=["202604", "202605"], out_dir=tmp_path / run)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first.keys() == second.keys()
    assert any(name.endswith(".xlsx") for name in first) and any(name.startswith("truth") for name in first)
    for name in first:
        assert first[name] == second[name], name


def test_another_seed_gives_another_town(tmp_path: Path) -> None:
    generate_town(seed=1, households=40, months=["202604"], out_dir=tmp_path / "a")
    generate_town(seed=2, households=40, months=["202604"], out_dir=tmp_path / "b")
    assert (tmp_path / "a" / "jumin_202604.csv").read_bytes() != (
        tmp_path / "b" / "jumin_202604.csv"
    ).read_bytes()
