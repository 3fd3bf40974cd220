"""The totals pool a version writes: each model's joint residual structure on its out-of-sample windows.

The windows are the calibration window, forecast by each model itself, and the forest's out-of-sample windows:
the year-ago window the store-day intervals pool too (:mod:`training.rf.interval_windows`) and the further ones
``ForestSettings.totals_window_weeks`` start, so the pool holds the chain's level at five times of the year. Each
becomes a stores x days matrix of corrected log residuals and forecasts, decomposed by
:func:`rossmann_core.totals.pool.decompose` (docs/decisions/027-totals-bands.md).
"""

import io
from collections.abc import Mapping

import numpy as np

from rossmann_core.covariates.assume import fit_covariates
from rossmann_core.data.panel import Panel
from rossmann_core.totals.bands import LOWER_QUANTILE, UPPER_QUANTILE
from rossmann_core.totals.pool import WindowResiduals, decompose

from .calibration import EarlierResiduals, blend_log

TOTALS_POOL_FILE = "totals_pool.npz"
TOTALS_LEVEL = round(UPPER_QUANTILE - LOWER_QUANTILE, 6)
FOREST_WINDOWS = "forest"
"""The prefix under which the pool file keeps the forest's windows, shared by every model's pool."""


def window_of(history: Panel, stores: np.ndarray, days: np.ndarray, leads: np.ndarray, log_forecast: np.ndarray,
              states: np.ndarray) -> WindowResiduals:
    """The stores x days matrices of one window's scored rows (``stores``, ``days``: indices into ``history``,
    ``leads``: days after the window's origin, (n,) each) with their corrected ``log_forecast`` (n,); the columns
    are the window's days from its origin's next day, and cells without a scored row are NaN."""
    first, n_days = int((days - leads).min()) + 1, int(leads.max())
    shape = (len(history.store_ids), n_days)
    residual, forecast = np.full(shape, np.nan), np.full(shape, np.nan)
    actual = history.sales[stores, days].astype(np.float64)
    residual[stores, days - first] = np.log(actual) - log_forecast
    forecast[stores, days - first] = np.exp(log_forecast)
    return WindowResiduals(residual, forecast, history.dates[first : first + n_days], states)


def forest_windows_of(history: Panel, forest_windows: list[EarlierResiduals], states: np.ndarray
                      ) -> list[WindowResiduals]:
    """The forest's out-of-sample windows (:func:`training.rf.train.train_forest`) as stores x days matrices."""
    matrices = []
    for window in forest_windows:
        if len(window.days):
            actual = history.sales[window.stores, window.days].astype(np.float64)
            matrices.append(window_of(history, window.stores, window.days, window.lead_days,
                                      np.log(actual) - window.log_residuals, states))
    return matrices


def window_arrays(prefix: str, windows: list[WindowResiduals]) -> dict[str, np.ndarray]:
    """The windows themselves (float16 matrices, ~0.2 MB a window of 1,115 stores), under ``windows/<prefix>/<i>/``:
    kept so that a study can rebuild the pool another way without training again; serving never reads them."""
    arrays = {}
    for i, window in enumerate(windows):
        key = f"windows/{prefix}/{i}"
        arrays |= {f"{key}/log_residual": window.log_residual.astype(np.float16),
                   f"{key}/forecast": window.forecast.astype(np.float16),
                   f"{key}/dates": window.dates, f"{key}/states": window.states.astype(str)}
    return arrays


def stored_windows(arrays: Mapping[str, np.ndarray], prefix: str) -> list[WindowResiduals]:
    """The windows :func:`window_arrays` wrote under ``prefix``."""
    count = len({key.split("/")[2] for key in arrays if key.startswith(f"windows/{prefix}/")})
    return [WindowResiduals(*(arrays[f"windows/{prefix}/{i}/{part}"] for part in
                              ("log_residual", "forecast", "dates", "states"))) for i in range(count)]


def read_windows(arrays: Mapping[str, np.ndarray], name: str) -> list[WindowResiduals]:
    """The windows model ``name``'s pool was made of: its calibration window first, then the forest's windows."""
    return stored_windows(arrays, name) + stored_windows(arrays, FOREST_WINDOWS)


def pools_bytes(calibration: Mapping[str, WindowResiduals], forest: list[WindowResiduals]) -> bytes:
    """The ``.npz`` file of every model's pool (keys ``<model>/<field>``) from its ``calibration`` window and the
    shared ``forest`` windows, with the windows themselves (each stored once)."""
    arrays = window_arrays(FOREST_WINDOWS, forest)
    for name, window in calibration.items():
        arrays |= decompose([window, *forest]).to_arrays(name) | window_arrays(name, [window])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def corrected_calibration_logs(
    calib_logs: Mapping[str, np.ndarray], entries: Mapping[str, Mapping], blend: Mapping[str, float],
    ensemble: str,
) -> dict[str, np.ndarray]:
    """Every model's corrected calibration log forecast (n_calibration,), the blend's from its members'."""
    corrected = {name: log + np.log(entries[name]["correction"]) for name, log in calib_logs.items()}
    if ensemble in entries:
        members = {name: calib_logs[name] for name in blend}
        corrections = {name: entries[name]["correction"] for name in blend}
        corrected[ensemble] = blend_log(members, corrections, blend) + np.log(entries[ensemble]["correction"])
    return corrected


def totals_file(
    history: Panel, state: Panel, calib_idx: tuple[np.ndarray, ...], corrected_logs: Mapping[str, np.ndarray],
    forest_windows: list[EarlierResiduals],
) -> tuple[bytes, dict]:
    """The pool file's bytes and the manifest's ``totals`` entry; federal states as serving infers them from the
    version's stored ``state`` panel (:attr:`~rossmann_core.covariates.assume.CovariateModel.state_of_store`)."""
    states = fit_covariates(state).state_of_store
    calibration = {name: window_of(history, calib_idx[0], calib_idx[1], calib_idx[1] - calib_idx[2], log_forecast,
                                   states)
                   for name, log_forecast in corrected_logs.items()}
    forest = forest_windows_of(history, forest_windows, states)
    spans = [f"{w.dates[0]}..{w.dates[-1]}" for w in [next(iter(calibration.values())), *forest]]
    entry = {"file": TOTALS_POOL_FILE, "models": list(calibration), "level": TOTALS_LEVEL,
             "windows": ["calibration " + spans[0], *(f"forest {span}" for span in spans[1:])],
             "method": "scenario bootstrap of day shocks, state and store offsets and cell noise"}
    return pools_bytes(calibration, forest), entry
