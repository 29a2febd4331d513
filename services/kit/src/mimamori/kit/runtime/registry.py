"""Modules are discovered through the `mimamori.modules` entry point, so services never import each other."""

from __future__ import annotations

from importlib.metadata import entry_points

from mimamori.kit.runtime.module import Module

GROUP = "mimamori.modules"


def available() -> list[str]:
    """The names of every installed module."""
    return sorted({entry.name for entry in entry_points(group=GROUP)})


def discover(names: list[str] | None = None) -> dict[str, Module]:
    """The installed modules by name (only those named, when given: others are not even imported)."""
    modules: dict[str, Module] = {}
    for entry in entry_points(group=GROUP):
        if names is None or entry.name in names:
            create = entry.load()
            modules[entry.name] = create()
    return modules


def start_order(modules: dict[str, Module], targets: list[str]) -> list[Module]:
    """The targets in dependency order (dependencies that are not targets are other processes' business)."""
    unknown = [t for t in targets if t not in modules]
    if unknown:
        raise KeyError(f"unknown target(s): {', '.join(unknown)}; known: {', '.join(sorted(modules))}")
    ordered: list[Module] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in path:
            raise ValueError(f"dependency cycle: {' -> '.join((*path, name))}")
        for dependency in modules[name].dependencies:
            if dependency in targets:
                visit(dependency, (*path, name))
        seen.add(name)
        ordered.append(modules[name])

    for target in targets:
        visit(target, ())
    return ordered
