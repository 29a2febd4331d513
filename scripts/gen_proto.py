"""Generate the Python code of proto/ in one place (proto/python/src); --check fails when it is stale."""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUT = ROOT / "proto" / "python" / "src"
GENERATED = OUT / "mimamori" / "events"


def generate(out: Path) -> None:
    """Run protoc (from grpcio-tools) over every contract into out."""
    files = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "mimamori").rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}", f"--python_out={out}", f"--mypy_out={out}", *files]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for directory in (out / "mimamori" / "events").rglob("*"):
        if directory.is_dir() and not (directory / "__init__.py").exists():
            (directory / "__init__.py").write_text("")
    (out / "mimamori" / "events" / "__init__.py").write_text("")


def sources(tree: Path) -> set[Path]:
    """The files of a generated tree, relative to it; bytecode caches left by imports are not part of it."""
    return {p.relative_to(tree) for p in tree.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two generated trees."""
    names = sources(a) | sources(b)
    return sorted(
        str(n) for n in names if not ((a / n).exists() and (b / n).exists() and filecmp.cmp(a / n, b / n, False))
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="fail when the committed code is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = Path(tmp) / "mimamori" / "events"
        stale = differences(fresh, GENERATED) if GENERATED.exists() else ["(missing)"]
        if args.check:
            if stale:
                print("generated protobuf code is stale; run `make proto`:", *stale, sep="\n  ")
                return 1
            print("generated protobuf code is up to date")
            return 0
        if GENERATED.exists():
            shutil.rmtree(GENERATED)
        shutil.copytree(fresh, GENERATED)
        print(f"generated {len(list(GENERATED.rglob('*_pb2.py')))} modules into {GENERATED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
