"""The users with the most of a figure, ties by user id, without sorting everyone.

The landing page's lists, the Weekly page's top-cost and loss tables: ten rows of a
million users each time the page draws (a full sort took 0.6–1.3 s per table).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def most(df: pd.DataFrame, column: str, n: int | None = None) -> pd.DataFrame:
    """The rows with the largest `column` first, then by `user_id`; only the top `n` (all
    without `n`). Only the rows at or above the n-th largest value are sorted: the same
    rows, in the same order, as a sort of every row."""
    if n is not None and 0 < n < len(df):
        values = df[column].to_numpy()
        df = df[values >= np.partition(values, len(values) - n)[len(values) - n]]
    out = df.sort_values([column, "user_id"], ascending=[False, True])
    return out if n is None else out.head(n)
