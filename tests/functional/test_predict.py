"""``python -m training predict``: a test.csv-shaped file in, one forecast row per file row out."""

import csv
from pathlib import Path

import pytest

from rossmann_core.errors import DataValidationError
from rossmann_core.models.version import load_version
from training.predict import forecast_future_file, write_forecasts

HEADER = '"Id","Store","DayOfWeek","Date","Open","Promo","StateHoliday","SchoolHoliday"\n'


@pytest.fixture(scope="module")
def version_dir(synthetic_version_dir: Path) -> Path:
    return synthetic_version_dir


def future_file(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "test.csv"
    path.write_text(HEADER + "".join(rows))
    return path


def test_every_row_gets_a_forecast_in_file_order(version_dir: Path, tmp_path: Path) -> None:
    # GIVEN a model whose history ends 2015-01-31 and three future rows (one closed, one with empty Open)
    path = future_file(tmp_path, [
        '1,2,3,2015-02-04,1,1,"0","0"\n',
        '2,1,7,2015-02-01,0,0,"0","0"\n',
        '3,5,2,2015-03-10,,0,"0","0"\n',
    ])
    out = tmp_path / "forecasts.csv"
    # WHEN they are forecast
    assert write_forecasts(load_version(version_dir), path, "rf", out) == 3
    rows = list(csv.DictReader(out.open()))
    # THEN rows keep the file's order, closed days are 0 and open days sit inside their interval
    assert [(r["Store"], r["Date"], r["Open"]) for r in rows] == [
        ("2", "2015-02-04", "1"), ("1", "2015-02-01", "0"), ("5", "2015-03-10", "1")]
    assert float(rows[1]["Sales"]) == 0
    for row in (rows[0], rows[2]):
        assert 0 < float(row["Lower"]) < float(row["Sales"]) < float(row["Upper"])


def test_promo_in_the_file_raises_the_forecast(version_dir: Path, tmp_path: Path) -> None:
    version = load_version(version_dir)
    text = forecast_future_file(version, future_file(tmp_path, [
        '1,2,3,2015-02-04,1,0,"0","0"\n', '2,2,3,2015-02-11,1,1,"0","0"\n']), "rf")
    sales = [float(line.split(",")[3]) for line in text.splitlines()[1:]]
    assert sales[1] > 1.1 * sales[0], "the generated data sells 25 % more on promo days"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ('1,99,3,2015-02-04,1,0,"0","0"\n', "Store", "not in store.csv"),
        ('1,2,3,2015-03-18,1,0,"0","0"\n', "Date", "not within the 42 days"),
        ('1,2,6,2015-01-31,1,0,"0","0"\n', "Date", "not within the 42 days"),
    ],
)
def test_bad_rows_name_line_and_column(version_dir: Path, tmp_path: Path, row: str, column: str, reason: str) -> None:
    path = future_file(tmp_path, ['1,2,3,2015-02-04,1,0,"0","0"\n', row])
    out = tmp_path / "forecasts.csv"
    with pytest.raises(DataValidationError, match=reason) as caught:
        write_forecasts(load_version(version_dir), path, "rf", out)
    assert (caught.value.line, caught.value.column) == (3, column)
    assert not out.exists(), "nothing is written when the input is bad"
