"""The adapter SDK: what a town's `mimamori-adapters-<town>` package imports (docs/adapters.md).

The package declares an entry point in the group `mimamori.adapters` (`yamakita =
"mimamori_adapters_yamakita:adapters"`) naming a function that returns an `AdapterPackage`: the directory of its
spec files, the row hooks those specs name, and sample files for the conformance kit
(`mimamori.ingest.conformance`). examples/adapters-yamakita is a complete one."""

from mimamori.ingest.adapters.layouts import AdapterConflict, SpecError, load_layouts
from mimamori.ingest.adapters.packages import ENTRY_POINT_GROUP, AdapterPackage, PackageError
from mimamori.ingest.domain.layout import RowHook

__all__ = [
    "ENTRY_POINT_GROUP",
    "AdapterConflict",
    "AdapterPackage",
    "PackageError",
    "RowHook",
    "SpecError",
    "load_layouts",
]
