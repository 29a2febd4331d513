"""Row hooks of adapter packages, applied between a reader and the row checks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mimamori.ingest.domain import delivery
from mimamori.ingest.domain.layout import Layout


class HookedRows:
    """A reader's rows passed through the layout's row hook. A hook that fails (or returns anything but a list of
    text) rejects the whole file: the structure check reads every row first, so nothing has been written."""

    def __init__(self, rows: Iterable[tuple[int, list[str]]], *, layout: Layout, file_name: str) -> None:
        self._rows = rows
        self._layout = layout
        self._file_name = file_name

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        hook, name = self._layout.row_hook, self._layout.row_hook_name
        rows = iter(self._rows)
        try:
            for row, values in rows:
                if hook is None:
                    yield row, values
                    continue
                try:
                    changed = hook(list(values))
                except Exception:  # town code: any failure is the file's, never a crash (nor a value in a message)
                    raise delivery.hook_failed(self._file_name, row=row, hook=name) from None
                if not isinstance(changed, list) or not all(isinstance(v, str) for v in changed):
                    raise delivery.hook_failed(self._file_name, row=row, hook=name)
                yield row, changed
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()
