"""山北町 (143642) adapter specs for Mimamori: what its systems export, mapped onto the canonical model."""

from __future__ import annotations

from importlib import resources

from mimamori.ingest.sdk import AdapterPackage
from mimamori_adapters_yamakita.hooks import pad_atena_no

MUNICIPALITY = "143642"


def adapters() -> AdapterPackage:
    """The package's specs, hooks and samples (entry point `mimamori.adapters: yamakita`)."""
    here = resources.files(__name__)
    return AdapterPackage(
        name="mimamori-adapters-yamakita",
        specs=here / "specs",
        hooks={"pad_atena_no": pad_atena_no},
        samples=here / "samples",
    )
