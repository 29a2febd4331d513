"""`mimamori keys generate`: the distributed form's keys, written once each."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from joserfc.jwk import RSAKey

from mimamori.kit.auth import load_key
from mimamori.kit.runtime.cli import main


def test_keys_are_written_once_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "keys"
    first = CliRunner().invoke(main, ["keys", "generate", "--out", str(out)])
    assert first.exit_code == 0, first.output
    written = {name: (out / name).read_bytes() for name in ("context.key", "context.pub", "dev-issuer.pem")}
    assert load_key(written["context.key"].decode()).is_private
    assert not load_key(written["context.pub"].decode()).is_private
    assert RSAKey.import_key(written["dev-issuer.pem"]).is_private

    # A directory of an earlier version, without the development issuer's key: only that one is added.
    (out / "dev-issuer.pem").unlink()
    second = CliRunner().invoke(main, ["keys", "generate", "--out", str(out)])
    assert second.exit_code == 0, second.output
    assert (out / "context.key").read_bytes() == written["context.key"]
    assert (out / "context.pub").read_bytes() == written["context.pub"]
    added = (out / "dev-issuer.pem").read_bytes()
    assert added != written["dev-issuer.pem"]

    third = CliRunner().invoke(main, ["keys", "generate", "--out", str(out)])
    assert third.exit_code == 0, third.output
    assert (out / "dev-issuer.pem").read_bytes() == added
