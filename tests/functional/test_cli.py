"""``python -m training`` train and predict on the generated data: exit code 0 and the files written,
exit code 2 and a message naming the culprit for bad input (nothing written).

The CLI trains with the default forest (about 2 s on the 8 generated stores); the backtest command's
success path and its too-early cutoffs are tested in test_backtest_rolling.py.
"""

import contextlib
import csv
import hashlib
import io
import json
import logging
from pathlib import Path

import pytest

from rossmann_core.models.version import load_version
from synthetic import SyntheticData
from training.__main__ import main
from training.config import DEFAULT_FOREST
from training.predict import OUTPUT_COLUMNS

FUTURE_HEADER = '"Id","Store","DayOfWeek","Date","Open","Promo","StateHoliday","SchoolHoliday"\n'
FUTURE_ROWS = '1,2,3,2015-02-04,1,1,"0","0"\n2,7,7,2015-02-08,0,0,"0","0"\n3,5,2,2015-03-10,1,0,"0","0"\n'


def run(argv: list[str]) -> tuple[int, str]:
    """(exit code, standard output) of the CLI; argparse's own errors exit 2 by SystemExit."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
    return code, printed.getvalue()


@pytest.fixture(scope="module")
def trained(synthetic: SyntheticData, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """(exit code, output, artifacts folder) of ``train --models rf`` on the generated data."""
    artifacts = tmp_path_factory.mktemp("cli") / "artifacts"
    code, printed = run(["train", "--data-dir", str(synthetic.directory), "--out", str(artifacts), "--models", "rf"])
    return code, printed, artifacts


@pytest.fixture()
def future_file(tmp_path: Path) -> Path:
    path = tmp_path / "test.csv"
    path.write_text(FUTURE_HEADER + FUTURE_ROWS)
    return path


def test_train_writes_a_verified_version_and_points_latest_at_it(
    trained: tuple[int, str, Path], synthetic: SyntheticData
) -> None:
    code, printed, artifacts = trained
    assert code == 0
    (version_dir,) = (artifacts / "models").glob("2*")
    assert printed.splitlines()[-1] == str(version_dir)
    assert sorted(p.name for p in version_dir.iterdir()) == ["manifest.json", "rf.onnx", "rf_paths.npz",
                                                             "store_state.npz", "totals_pool.npz"]
    assert json.loads((artifacts / "models" / "latest.json").read_text()) == {"version": version_dir.name}
    version = load_version(version_dir)
    assert version.models == ("rf",) and str(version.history.dates[-1]) == "2015-01-31"
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert manifest["models"]["rf"]["settings"] == json.loads(json.dumps(DEFAULT_FOREST.__dict__)), \
        "the CLI trains the default forest"
    train_sha256 = hashlib.sha256((synthetic.directory / "train.csv").read_bytes()).hexdigest()
    assert manifest["data"]["sha256"]["train.csv"] == train_sha256
    assert sorted(version.stores.store_id.tolist()) == list(range(1, synthetic.n_stores + 1))


def test_predict_forecasts_every_row_of_a_future_file_with_the_latest_version(
    trained: tuple[int, str, Path], future_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "forecasts.csv"
    code, printed = run(["predict", "--future", str(future_file), "--artifacts", str(trained[2]), "--out", str(out)])
    assert (code, printed.splitlines()[-1]) == (0, "3")
    rows = list(csv.DictReader(out.open()))
    assert tuple(rows[0]) == OUTPUT_COLUMNS
    assert [(r["Store"], r["Date"], r["Open"]) for r in rows] == [
        ("2", "2015-02-04", "1"), ("7", "2015-02-08", "0"), ("5", "2015-03-10", "1")]
    assert float(rows[1]["Sales"]) == 0
    for row in (rows[0], rows[2]):
        assert float(row["Sales"]) > 1000 and float(row["Lower"]) < float(row["Sales"]) < float(row["Upper"])


@pytest.mark.parametrize(("command", "message"), [
    pytest.param(["train", "--data-dir", "{tmp}/nowhere", "--out", "{tmp}/out", "--models", "rf"],
                 "{tmp}/nowhere/train.csv: file not found", id="train-missing-data-folder"),
    pytest.param(["backtest", "--data-dir", "{data}", "--cutoff", "2015-02-10", "--model", "rf",
                  "--artifacts", "{tmp}/out", "--out", "{tmp}/out/backtest.json"],
                 "its 42-day horizon ends on 2015-03-24, after the data's last day 2015-01-31",
                 id="backtest-cutoff-after-the-data"),
    pytest.param(["backtest", "--data-dir", "{data}", "--cutoff", "2015-13-10", "--model", "rf",
                  "--artifacts", "{tmp}/out", "--out", "{tmp}/out/backtest.json"],
                 "--cutoff '2015-13-10' is not a YYYY-MM-DD date",
                 id="backtest-malformed-cutoff"),
    pytest.param(["predict", "--future", "{future}", "--artifacts", "{artifacts}", "--version", "20990101T000000Z",
                  "--out", "{tmp}/out/forecasts.csv"], "20990101T000000Z has no manifest.json",
                 id="predict-unknown-version"),
    pytest.param(["predict", "--future", "{tmp}/missing.csv", "--artifacts", "{artifacts}",
                  "--out", "{tmp}/out/forecasts.csv"], "{tmp}/missing.csv: file not found",
                 id="predict-missing-future-file"),
    pytest.param(["predict", "--future", "{future}", "--artifacts", "{artifacts}", "--model", "lstm",
                  "--out", "{tmp}/out/forecasts.csv"], "'lstm' is not in model version",
                 id="predict-model-not-in-the-version"),
    pytest.param(["train", "--data-dir", "{data}", "--out", "{tmp}/out", "--models", "xgb"], None,
                 id="train-unknown-model"),
])
def test_bad_input_exits_2_naming_the_culprit_and_writes_nothing(
    trained: tuple[int, str, Path], synthetic: SyntheticData, future_file: Path, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], command: list[str], message: str | None,
) -> None:
    places = {"tmp": tmp_path, "data": synthetic.directory, "future": future_file, "artifacts": trained[2]}
    argv = [part.format(**places) for part in command]
    with caplog.at_level(logging.ERROR, logger="training"):
        code, _ = run(argv)
    assert code == 2
    if message is None:
        assert "invalid choice: 'xgb'" in capsys.readouterr().err, "argparse names the bad choice"
    else:
        assert message.format(**places) in caplog.text
    assert not (tmp_path / "out").exists(), "nothing is written for bad input"
