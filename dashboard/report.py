"""`python -m dashboard.report weekly ...`, as cron lines type it; the report is in `report/`."""

from __future__ import annotations

import sys

from report.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
