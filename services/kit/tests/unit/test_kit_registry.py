"""Start order of the modules of one process: dependencies first, unknown targets and cycles refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mimamori.kit.runtime.module import Module
from mimamori.kit.runtime.registry import start_order


@dataclass
class Stub:
    """Just enough of a module for ordering."""

    name: str
    dependencies: tuple[str, ...] = ()
    port: int = 0


def modules(*stubs: Stub) -> dict[str, Module]:
    return {s.name: s for s in stubs}  # type: ignore[misc]


PLATFORM = modules(
    Stub("gateway", ("ingest", "identity", "risk", "casework", "audit")),
    Stub("ingest", ("audit",)),
    Stub("identity", ("ingest", "audit")),
    Stub("risk", ("identity", "audit")),
    Stub("casework", ("identity", "audit")),
    Stub("audit"),
)


def names(ordered: list[Module]) -> list[str]:
    return [m.name for m in ordered]


def test_every_module_starts_after_its_dependencies() -> None:
    ordered = names(start_order(PLATFORM, ["gateway", "casework", "risk", "identity", "ingest", "audit"]))
    assert sorted(ordered) == sorted(PLATFORM)
    for name, module in PLATFORM.items():
        for dependency in module.dependencies:
            assert ordered.index(dependency) < ordered.index(name), (dependency, name)


def test_the_order_follows_the_targets_where_dependencies_allow() -> None:
    assert names(start_order(PLATFORM, ["risk", "casework", "identity"])) == ["identity", "risk", "casework"]


def test_dependencies_that_are_not_targets_are_left_to_other_processes() -> None:
    assert names(start_order(PLATFORM, ["risk"])) == ["risk"]
    assert names(start_order(PLATFORM, ["casework", "audit"])) == ["audit", "casework"]


def test_each_module_appears_once_however_many_depend_on_it() -> None:
    ordered = names(start_order(PLATFORM, list(PLATFORM)))
    assert len(ordered) == len(set(ordered)) == len(PLATFORM)
    assert ordered[0] == "audit"


def test_an_unknown_target_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown target\(s\): billing; known: audit, casework"):
        start_order(PLATFORM, ["risk", "billing"])


def test_a_dependency_cycle_is_refused_naming_the_cycle() -> None:
    cyclic = modules(Stub("a", ("b",)), Stub("b", ("c",)), Stub("c", ("a",)), Stub("d"))
    with pytest.raises(ValueError, match="dependency cycle: a -> b -> c -> a"):
        start_order(cyclic, ["a", "b", "c", "d"])


def test_a_module_depending_on_itself_is_a_cycle() -> None:
    with pytest.raises(ValueError, match="dependency cycle: a -> a"):
        start_order(modules(Stub("a", ("a",))), ["a"])


def test_a_cycle_through_a_module_of_another_process_is_not_this_process_concern() -> None:
    cyclic = modules(Stub("a", ("b",)), Stub("b", ("a",)))
    assert names(start_order(cyclic, ["a"])) == ["a"]
