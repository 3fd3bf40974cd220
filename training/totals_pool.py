"""The totals pool a version writes: each model's joint residual structure on its out-of-sample windows.

The windows are the ones the store-day intervals pool (:mod:`training.calibration`): the calibration window,
forecast by each model itself, and the forest's year-ago window (:mod:`training.rf.interval_windows`). Each
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


def window_of(history: Panel, stores: np.ndarray, days: np.ndarray, log_forecast: np.ndarray,
              states: np.ndarray) -> WindowResiduals:
    """The stores x days matrices of scored rows (``stores``, ``days``: indices into ``history``, (n,) each) with
    their corrected ``log_forecast`` (n,); cells without a scored row are NaN."""
    first, n_days = int(days.min()), int(days.max() - days.min()) + 1
    shape = (len(history.store_ids), n_days)
    residual, forecast = np.full(shape, np.nan), np.full(shape, np.nan)
    actual = history.sales[stores, days].astype(np.float64)
    residual[stores, days - first] = np.log(actual) - log_forecast
    forecast[stores, days - first] = np.exp(log_forecast)
    return WindowResiduals(residual, forecast, history.dates[first : first + n_days], states)


def pool_windows(
    history: Panel, calib_idx: tuple[np.ndarray, ...], corrected_logs: Mapping[str, np.ndarray],
    earlier: EarlierResiduals | None, states: np.ndarray,
) -> dict[str, list[WindowResiduals]]:
    """Each model's out-of-sample windows: its corrected calibration log forecasts ``corrected_logs[model]``
    (rows of ``calib_idx``) and, when there is one, the forest's year-ago window."""
    year_ago = []
    if earlier is not None and len(earlier.days):
        actual = history.sales[earlier.stores, earlier.days].astype(np.float64)
        year_ago = [window_of(history, earlier.stores, earlier.days, np.log(actual) - earlier.log_residuals, states)]
    return {name: [window_of(history, calib_idx[0], calib_idx[1], log_forecast, states), *year_ago]
            for name, log_forecast in corrected_logs.items()}


def window_arrays(name: str, windows: list[WindowResiduals]) -> dict[str, np.ndarray]:
    """The windows themselves (float16 matrices, ~0.4 MB a window of 1,115 stores), under ``windows/<model>/``:
    kept so that a study can rebuild the pool another way without training again; serving never reads them."""
    arrays = {}
    for i, window in enumerate(windows):
        prefix = f"windows/{name}/{i}"
        arrays |= {f"{prefix}/log_residual": window.log_residual.astype(np.float16),
                   f"{prefix}/forecast": window.forecast.astype(np.float16),
                   f"{prefix}/dates": window.dates, f"{prefix}/states": window.states.astype(str)}
    return arrays


def read_windows(arrays: Mapping[str, np.ndarray], name: str) -> list[WindowResiduals]:
    """The windows :func:`window_arrays` wrote for model ``name``."""
    count = len({key.split("/")[2] for key in arrays if key.startswith(f"windows/{name}/")})
    return [WindowResiduals(*(arrays[f"windows/{name}/{i}/{part}"] for part in
                              ("log_residual", "forecast", "dates", "states"))) for i in range(count)]


def pools_bytes(windows: Mapping[str, list[WindowResiduals]]) -> bytes:
    """The ``.npz`` file of every model's pool (keys ``<model>/<field>``) and its windows."""
    arrays = {}
    for name, model_windows in windows.items():
        arrays |= decompose(model_windows).to_arrays(name) | window_arrays(name, model_windows)
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
    earlier: EarlierResiduals | None,
) -> tuple[bytes, dict]:
    """The pool file's bytes and the manifest's ``totals`` entry; federal states as serving infers them from the
    version's stored ``state`` panel (:attr:`~rossmann_core.covariates.assume.CovariateModel.state_of_store`)."""
    states = fit_covariates(state).state_of_store
    windows = pool_windows(history, calib_idx, corrected_logs, earlier, states)
    names = ["calibration"] + (["year_ago"] if earlier is not None and len(earlier.days) else [])
    entry = {"file": TOTALS_POOL_FILE, "models": list(windows), "level": TOTALS_LEVEL, "windows": names,
             "method": "scenario bootstrap of day shocks, state and store offsets and cell noise"}
    return pools_bytes(windows), entry
