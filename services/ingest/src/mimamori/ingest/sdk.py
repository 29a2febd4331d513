"""The adapter SDK: what a town's `mimamori-adapters-<town>` package imports (see docs/adapters.md).

    # pyproject.toml
    [project.entry-points."mimamori.adapters"]
    yamakita = "mimamori_adapters_yamakita:adapters"

    # mimamori_adapters_yamakita/__init__.py
    def adapters() -> AdapterPackage:
        here = resources.files(__name__)
        return AdapterPackage(name="mimamori-adapters-yamakita", specs=here / "specs",
                              hooks={"pad_atena_no": pad_atena_no}, samples=here / "samples")
"""

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
