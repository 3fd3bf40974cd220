"""Compare Random Forest settings on the backtest timeline without exporting anything (it fed
docs/decisions/003-forest-size.md).

Builds the training, calibration and test features once (cutoff 2015-05-08 by default), then fits
each settings JSON given on the command line and prints calibration and test RMSPE (with the
calibration-fitted correction), the node count and the fit time. Example:

    .venv/bin/python scripts/studies/tune_forest.py '{"n_estimators": 24, "max_leaf_nodes": 20000}' '{}'
"""

import argparse
import json
import time

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import attach_covariates
from rossmann_core.features.tabular import FeatureBuilder
from training.calibration import correction_factor
from training.config import ForestSettings, data_dir
from training.data import load_dataset
from training.metrics import rmspe
from training.rf.fit import fit_forest, predict_log_sales
from training.tree_rows import training_rows
from training.windows import origin_rows, scorable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("settings", nargs="+", help="JSON objects of ForestSettings fields")
    parser.add_argument("--data-dir")
    parser.add_argument("--cutoff", default="2015-05-08")
    args = parser.parse_args()
    dataset = load_dataset(data_dir(args.data_dir))
    cutoff = np.datetime64(args.cutoff, "D")
    history = dataset.panel.window(dataset.panel.start, cutoff)
    last = history.n_days - 1
    builder = FeatureBuilder(history, dataset.stores)
    train_rows = training_rows(history, last - HORIZON_DAYS)
    calib_rows = origin_rows(history, last - HORIZON_DAYS, HORIZON_DAYS)
    future = attach_covariates(history, dataset.panel.window(cutoff + 1, cutoff + HORIZON_DAYS))
    store, day = (a.ravel() for a in np.meshgrid(np.arange(len(history.store_ids)),
                                                  np.arange(last + 1, last + HORIZON_DAYS + 1), indexing="ij"))
    keep = scorable(dataset.panel, store, day)
    test_rows = (store[keep], day[keep], np.full(int(keep.sum()), last))
    train_x, calib_x = builder.build(*train_rows), builder.build(*calib_rows)
    test_x = FeatureBuilder(future, dataset.stores).build(*test_rows)
    train_y, calib_y = history.sales[train_rows[:2]], history.sales[calib_rows[:2]]
    test_y = dataset.panel.sales[test_rows[:2]]
    for text in args.settings:
        settings = ForestSettings(**json.loads(text))
        started = time.perf_counter()
        pipeline = fit_forest(train_x, train_y, settings)
        seconds = time.perf_counter() - started
        calib = np.exp(predict_log_sales(pipeline, calib_x))
        correction = correction_factor(calib_y, calib)
        test = np.exp(predict_log_sales(pipeline, test_x)) * correction
        nodes = sum(tree.tree_.node_count for tree in pipeline[-1].estimators_)
        print(json.dumps({
            "settings": json.loads(text), "fit_seconds": round(seconds), "nodes": nodes,
            "calibration_rmspe": round(rmspe(calib_y, calib * correction), 4),
            "test_rmspe": round(rmspe(test_y, test), 4),
        }), flush=True)


if __name__ == "__main__":
    main()
