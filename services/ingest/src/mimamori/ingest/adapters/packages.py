"""Adapter packages (the adapter SDK): layout specs shipped outside this repository.

A town publishes `mimamori-adapters-<town>` with an entry point in the group `mimamori.adapters`; the entry point
names an `AdapterPackage` (or a function returning one, or just the directory of its spec files). ingest reads
those specs beside its own at start-up (`layouts.load_layouts`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from mimamori.ingest.domain.layout import RowHook

ENTRY_POINT_GROUP = "mimamori.adapters"


class PackageError(ValueError):
    """An installed adapter package that cannot be read; raised at start-up, naming the package."""


@dataclass(frozen=True)
class AdapterPackage:
    """What an adapter package ships: its spec files, the hooks they name, and sample files for its tests."""

    name: str  # e.g. mimamori-adapters-yamakita
    specs: Traversable  # a directory of `<source>.yaml` files
    hooks: Mapping[str, RowHook] = field(default_factory=dict)  # a spec's `hooks: {row: <name>}` names one
    samples: Traversable | None = None  # `<source>_<YYYYMM>.<ext>` files the conformance kit parses

    def spec_files(self) -> list[Traversable]:
        """The package's spec files, by name."""
        return sorted((e for e in self.specs.iterdir() if e.name.endswith((".yaml", ".yml"))), key=lambda e: e.name)

    def sample_files(self) -> list[Traversable]:
        """The package's sample files, by name."""
        if self.samples is None:
            return []
        return sorted((e for e in self.samples.iterdir() if e.is_file()), key=lambda e: e.name)


def _as_package(loaded: object, *, name: str) -> AdapterPackage:
    if callable(loaded) and not isinstance(loaded, AdapterPackage | ModuleType):
        loaded = loaded()
    if isinstance(loaded, AdapterPackage):
        return loaded
    if isinstance(loaded, ModuleType):
        return AdapterPackage(name=name, specs=resources.files(loaded))
    if isinstance(loaded, str | Path):
        return AdapterPackage(name=name, specs=Path(loaded))
    if isinstance(loaded, Traversable):
        return AdapterPackage(name=name, specs=loaded)
    raise PackageError(f"{name}: an adapter entry point gives an AdapterPackage or a directory of specs")


def package_of(entry: EntryPoint) -> AdapterPackage:
    """The adapter package an entry point of `mimamori.adapters` names."""
    name = f"{entry.dist.name if entry.dist is not None else entry.value} ({entry.name})"
    try:
        loaded = entry.load()
    except Exception as exc:
        raise PackageError(f"{name}: cannot import {entry.value}: {type(exc).__name__}") from exc
    package = _as_package(loaded, name=name)
    if not package.specs.is_dir():
        raise PackageError(f"{name}: the specs directory does not exist")
    return package


def installed_packages(
    select: Callable[[], list[EntryPoint]] | None = None,
) -> list[AdapterPackage]:
    """Every installed adapter package, in entry-point name order."""
    found = select() if select is not None else list(entry_points(group=ENTRY_POINT_GROUP))
    return [package_of(e) for e in sorted(found, key=lambda e: e.name)]
