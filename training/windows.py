"""Which (store, day, origin) rows are scored: open days with sales, forecast from a given origin.

Every model of a version is calibrated on :func:`origin_rows` of the same origin (the 42 days before
the cutoff); the forest's training rows (:mod:`training.tree_rows`) are such rows of earlier origins.
"""

import numpy as np

from rossmann_core.data.panel import Panel


def scorable(panel: Panel, store: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Rows that are open with sales > 0 (the only rows trained on and scored)."""
    sales = panel.sales[store, day]
    return (panel.open[store, day] == 1) & np.isfinite(sales) & (sales > 0)


def origin_rows(panel: Panel, origin: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scorable (store, day, origin) rows for days origin+1..origin+horizon that lie in the panel."""
    days = np.arange(origin + 1, min(origin + horizon, panel.n_days - 1) + 1)
    store, day = (a.ravel() for a in np.meshgrid(np.arange(len(panel.store_ids)), days, indexing="ij"))
    keep = scorable(panel, store, day)
    return store[keep], day[keep], np.full(int(keep.sum()), origin)
