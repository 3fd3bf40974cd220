"""Known-future covariates on the real Kaggle files: a year of history reproduces the last six weeks' calendar."""

from pathlib import Path

import pytest

from rossmann_core.covariates.assume import COVARIATES, assume_covariates, fit_covariates
from rossmann_core.data.dates import DAY


@pytest.mark.real_data
def test_real_history_of_372_days_reproduces_the_last_42_days(real_data_dir: Path) -> None:
    from training.data import load_dataset

    panel = load_dataset(real_data_dir).panel
    last = panel.dates[-1]
    origin = last - 42 * DAY
    model = fit_covariates(panel.window(origin - 371 * DAY, origin))
    assumed = assume_covariates(model, origin + DAY, last)
    actual = panel.window(origin + DAY, last)
    agreement = {}
    for name in COVARIATES:
        known = getattr(actual, name) >= 0
        agreement[name] = float((getattr(assumed, name) == getattr(actual, name))[known].mean())
    assert agreement["open"] > 0.99 and agreement["state_holiday"] > 0.999, agreement
    assert agreement["promo"] > 0.95 and agreement["school_holiday"] > 0.98, agreement
    assert (model.calendar_mismatches == 0).mean() > 0.95
    full_history = fit_covariates(panel)
    assert full_history.calendar_of_store == model.calendar_of_store
