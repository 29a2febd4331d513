"""The drop folder takes a file only once it has settled, moves it aside, and explains a name it cannot load."""

from __future__ import annotations

import os
from pathlib import Path

from mimamori.ingest.domain.delivery import DeliveredFileName
from mimamori.ingest.entrypoints.drop_folder import DropFolder


async def _deliver_named(path: Path) -> str:
    DeliveredFileName.parse(path.name)  # raises FileNameRejected like receive_file does
    return f"run-{path.stem}"


async def test_a_file_is_taken_after_it_settles_and_moves_to_processed(tmp_path: Path) -> None:
    folder = DropFolder(tmp_path, deliver=_deliver_named)
    for sub in ("processed", "rejected"):
        (tmp_path / sub).mkdir()
    dropped = tmp_path / "jumin_202606.csv"
    dropped.write_bytes(b"part")
    assert await folder.scan() == []  # first sight: maybe still being copied
    dropped.write_bytes(b"partly written, then more")
    os.utime(dropped, ns=(1, 1))
    assert await folder.scan() == []  # changed since: not yet
    assert await folder.scan() == ["run-jumin_202606"]
    assert not dropped.exists()
    assert (tmp_path / "processed" / "run-jumin_202606_jumin_202606.csv").read_bytes() == b"partly written, then more"
    assert await folder.scan() == []  # taken once


async def test_a_name_that_names_no_layout_is_rejected_with_its_reason(tmp_path: Path) -> None:
    folder = DropFolder(tmp_path, deliver=_deliver_named)
    for sub in ("processed", "rejected"):
        (tmp_path / sub).mkdir()
    (tmp_path / "memo.txt").write_text("x")
    (tmp_path / ".partial").write_text("x")
    await folder.scan()
    assert await folder.scan() == []
    assert (tmp_path / "rejected" / "memo.txt").exists()
    reason = (tmp_path / "rejected" / "memo.txt.reason.txt").read_text(encoding="utf-8")
    assert "memo.txt" in reason and "形式ではありません" in reason
    assert (tmp_path / ".partial").exists()  # hidden files (copies under way) are left alone
