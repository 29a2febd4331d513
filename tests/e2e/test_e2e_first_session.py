"""A newcomer's first session: `mimamori run` (what `make run` starts), then the commands its banner prints,
run as printed in a shell: a token, the demo child, a 見守り情報 written and read back, the audit ledger verified."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mimamori.kit.testing import servers
from mimamori.kit.testing.deployment import free_port

MIMAMORI = str(Path(sys.executable).with_name("mimamori"))


@pytest.fixture
def banner(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env["MIMAMORI_DATA_DIR"] = str(tmp_path / "data")
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([MIMAMORI, "run", "--port", str(port)], env=env, stdout=stdout, stderr=stderr)
    try:
        deadline = time.monotonic() + 90
        while "Uvicorn running" not in err.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"mimamori run did not start:\n{err.read_text()[-3000:]}")
            time.sleep(0.2)
        yield out.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


def commands(banner: str) -> str:
    """The shell commands of the banner (indented lines, with their continuations)."""
    script, current = ["set -euo pipefail"], ""
    for line in banner.splitlines():
        if not line.startswith("  ") or line.startswith(("  demo users", "  password")):
            continue
        current += line.strip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            script.append(current)
            current = ""
    return "\n".join(script)


def test_the_banner_commands_work_as_printed(banner: str) -> None:
    if shutil.which("curl") is None:  # .ci/run installs it: there a missing curl fails like a missing server
        servers.unavailable("the banner's commands use curl")
    assert "宛名番号" in banner and "ATENA=" in banner
    script = commands(banner) + '\necho "PERSON=$PERSON"\n'
    deadline = time.monotonic() + 60
    while True:  # the demo town loads in the background: the child may not be linked yet
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
        if done.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.count("母親と面談。") >= 2  # written, then read back
    # curl prints no newline: the answers run together; find the verifier's.
    verified = re.search(r'\{"ok":(true|false),"rows_checked":(\d+)', done.stdout)
    assert verified is not None, done.stdout
    assert verified.group(1) == "true" and int(verified.group(2)) > 0
