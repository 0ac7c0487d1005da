"""Progress for long loads on a terminal (tqdm); the app passes its own callback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def terminal_progress(desc: str, total: int | None = None, unit: str = "rows"
                      ) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal); yields `advance(n)`."""
    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
               disable=not sys.stderr.isatty(), leave=False)
    try:
        yield bar.update
    finally:
        bar.close()
