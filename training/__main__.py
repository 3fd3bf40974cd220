"""Command line: ``python -m training {train,backtest,eda,diagnose,publish} ...``; ``--help`` on each."""

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.dates import iso_day
from rossmann_core.errors import RossmannError, SettingsError

from . import config
from .config import ENSEMBLE, MODELS, SERVED_DEFAULT

log = logging.getLogger("training")


def _train(args: argparse.Namespace) -> None:
    from .data import load_dataset
    from .train import train_model

    version_dir = train_model(load_dataset(config.data_dir(args.data_dir)), Path(args.out), models=args.models)
    print(version_dir)


def _day(text: str, option: str) -> np.datetime64:
    """A YYYY-MM-DD command-line value as datetime64[D]; SettingsError naming the option otherwise."""
    day = iso_day(text)
    if day is None:
        raise SettingsError(f"{option} {text!r} is not a YYYY-MM-DD date")
    return day


def _backtest(args: argparse.Namespace) -> None:
    from .backtest import run_rolling_backtest
    from .data import load_dataset

    cutoff = _day(args.cutoff, "--cutoff")
    dataset = load_dataset(config.data_dir(args.data_dir))
    result = run_rolling_backtest(dataset, cutoff, args.horizon, args.model,
                                  Path(args.artifacts), args.windows, args.step, args.lstm_epochs,
                                  without_lstm=args.without_lstm)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _eda(args: argparse.Namespace) -> None:
    from .eda.report import build_report

    print(build_report(config.data_dir(args.data_dir), Path(args.out), Path(args.future) if args.future else None))


def _diagnose(args: argparse.Namespace) -> None:
    from .data import load_dataset
    from .diagnostics.report import build_report

    print(build_report(load_dataset(config.data_dir(args.data_dir)).panel, Path(args.out)))


def _publish(args: argparse.Namespace) -> None:
    from .publish import publish_version

    print(publish_version(Path(args.artifacts), args.bucket, args.prefix, args.version))


def _predict(args: argparse.Namespace) -> None:
    from rossmann_core.models.registry import load_from_registry

    from .predict import write_forecasts

    registry = str(Path(args.artifacts) / "models")
    version = load_from_registry(registry, args.version, Path(args.artifacts) / "cache")
    print(write_forecasts(version, Path(args.future), args.model or version.best_model, Path(args.out)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True)
    data_help = (
        f"data folder with train.csv and store.csv (default ${config.DATA_DIR_ENV} or {config.DEFAULT_DATA_DIR})"
    )

    train = commands.add_parser("train", help="train on all data and export a model version")
    train.add_argument("--data-dir", help=data_help)
    train.add_argument("--out", default=str(config.DEFAULT_ARTIFACTS_DIR), help="artifacts folder")
    train.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS,
                       help=f"models of the version (default all, which adds their blend '{ENSEMBLE}')")
    train.set_defaults(run=_train)

    backtest = commands.add_parser("backtest", help="train up to a cutoff and score the next days")
    backtest.add_argument("--data-dir", help=data_help)
    backtest.add_argument("--cutoff", required=True, help="last training day, YYYY-MM-DD")
    backtest.add_argument("--horizon", type=int, default=HORIZON_DAYS)
    backtest.add_argument("--model", default=SERVED_DEFAULT, choices=[*MODELS, ENSEMBLE],
                          help=f"{ENSEMBLE} (the served default) trains every model and also reports each member's "
                               "scores")
    backtest.add_argument("--windows", type=int, default=1,
                          help="rolling origin: backtest at this many cutoffs, --cutoff and then every --step "
                               "days back (default 1); above 1 the JSON holds 'windows' and 'summary'")
    backtest.add_argument("--step", type=int, default=HORIZON_DAYS, help="days between the cutoffs of --windows")
    backtest.add_argument("--without-lstm", action="store_true",
                          help=f"{ENSEMBLE} only: leave the LSTM (blend weight 0) out, a screening run of the served "
                               "blend (recorded in settings)")
    backtest.add_argument("--lstm-epochs", type=int,
                          help="LSTM epochs for this backtest only (default: the served model's)")
    backtest.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR))
    backtest.add_argument("--out", required=True, help="where to write the metrics JSON")
    backtest.set_defaults(run=_backtest)

    eda = commands.add_parser("eda", help="write the EDA report (one self-contained HTML page)")
    eda.add_argument("--data-dir", help=data_help)
    eda.add_argument("--out", default="reports/eda", help="output folder for index.html")
    eda.add_argument("--future", help="optional test.csv-shaped file of future days (question 2)")
    eda.set_defaults(run=_eda)

    diagnose = commands.add_parser("diagnose", help="write the time-series diagnostics report (Markdown + PNG)")
    diagnose.add_argument("--data-dir", help=data_help)
    diagnose.add_argument("--out", default="reports/diagnostics", help="output folder for index.md and figures")
    diagnose.set_defaults(run=_diagnose)

    publish = commands.add_parser("publish", help="upload a model version to S3, then point latest.json at it")
    publish.add_argument("--bucket", required=True)
    publish.add_argument("--prefix", default="models", help="key prefix of the registry (default models)")
    publish.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR), help="folder holding models/")
    publish.add_argument("--version", help="version to publish (default: the local latest.json)")
    publish.set_defaults(run=_publish)

    predict = commands.add_parser("predict", help="forecast the days of a test.csv-shaped file with a model version")
    predict.add_argument("--future", required=True, help="Kaggle test.csv-shaped file of days to forecast")
    predict.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR), help="folder holding models/")
    predict.add_argument("--version", help="model version (default: models/latest.json)")
    predict.add_argument("--model", help="rf, lstm or ensemble (default: the best by calibration RMSPE)")
    predict.add_argument("--out", required=True, help="CSV to write: Store, Date, Open, Sales, Lower, Upper")
    predict.set_defaults(run=_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args.run(args)
    except RossmannError as error:  # bad input, data, model or setting: the message says it all
        log.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
