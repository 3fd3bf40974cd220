"""How well the assumed covariates reproduce history the serving code did not see (real data; it fed
docs/decisions/021-assumed-covariates.md).

For origins every ``--step`` days over the last year, fits :func:`fit_covariates` on the FEATURE_HISTORY_DAYS days up
to the origin (what a model version stores) and compares the assumed 42 days with the data:
agreement per covariate over known store-days, overall and per lead week, plus the state inference
(stores whose calendar matches every known StateHoliday day; ties; agreement with the calendar
inferred from the whole history). Prints JSON.

    .venv/bin/python scripts/studies/covariate_accuracy.py [--data-dir D] [--step 7]
"""

import argparse
import json
from collections import Counter

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.covariates.assume import COVARIATES, assume_covariates, fit_covariates
from rossmann_core.data.dates import DAY, weekday
from rossmann_core.features.history import FEATURE_HISTORY_DAYS
from training.config import data_dir
from training.data import load_dataset


def agreement(panel, origin: np.datetime64) -> dict[str, np.ndarray]:
    """Per covariate: (matches, known) counts per lead day, shape (2, 42)."""
    model = fit_covariates(panel.window(origin - (FEATURE_HISTORY_DAYS - 1) * DAY, origin))
    assumed = assume_covariates(model, origin + DAY, origin + HORIZON_DAYS * DAY)
    actual = panel.window(origin + DAY, origin + HORIZON_DAYS * DAY)
    weekdays = weekday(actual.dates) < 5
    out = {}
    for name in COVARIATES:
        known = getattr(actual, name) >= 0
        if name == "promo":
            known &= weekdays
        same = (getattr(assumed, name) == getattr(actual, name)) & known
        out[name] = np.stack([same.sum(0), known.sum(0)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir")
    parser.add_argument("--step", type=int, default=7, help="days between rolling origins")
    args = parser.parse_args()
    panel = load_dataset(data_dir(args.data_dir)).panel
    last_origin = panel.dates[-1] - HORIZON_DAYS * DAY
    origins = [last_origin - k * args.step * DAY for k in range(0, 365 // args.step)]
    totals = {name: np.zeros((2, HORIZON_DAYS)) for name in COVARIATES}
    for origin in origins:
        for name, counts in agreement(panel, origin).items():
            totals[name] += counts
    last = agreement(panel, last_origin)
    served = fit_covariates(panel.window(last_origin - (FEATURE_HISTORY_DAYS - 1) * DAY, last_origin))
    full = fit_covariates(panel, days=None)
    report = {
        "last_42_days": {
            "origin": str(last_origin),
            "agreement": {n: round(float(c[0].sum() / c[1].sum()), 4) for n, c in last.items()},
        },
        "rolling": {
            "origins": len(origins), "first": str(origins[-1]), "last": str(origins[0]),
            "agreement": {n: round(float(c[0].sum() / c[1].sum()), 4) for n, c in totals.items()},
            "by_lead_week": {
                n: [round(float(c[0, w * 7:(w + 1) * 7].sum() / c[1, w * 7:(w + 1) * 7].sum()), 3) for w in range(6)]
                for n, c in totals.items()
            },
        },
        "promo_cycle": {"period_days": served.promo_period, "days_on": int(served.promo_on.sum()),
                        "anchor": str(served.promo_anchor)},
        "states": {
            "stores": len(served.store_ids),
            "all_known_days_match": int((served.calendar_mismatches == 0).sum()),
            "mismatch_days": dict(Counter(served.calendar_mismatches.tolist())),
            "tied_stores": int((served.calendar_ties > 0).sum()),
            "same_as_full_history": round(float(np.mean(np.array(served.calendar_of_store)
                                                        == np.array(full.calendar_of_store))), 4),
            "calendars": dict(Counter(served.calendar_of_store).most_common()),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
