"""`python -m report weekly ...` (also reachable as `python -m dashboard.report`)."""

from __future__ import annotations

import sys

from report.command import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
