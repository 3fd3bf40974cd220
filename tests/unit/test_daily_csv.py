"""The daily-file loader: real quirks are accepted, bad input names file, line and column."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from rossmann_core.data.daily_csv import read_future_csv, read_history_csv
from rossmann_core.errors import DataValidationError

HEADER = '"Store","DayOfWeek","Date","Sales","Customers","Open","Promo","StateHoliday","SchoolHoliday"\n'
GOOD_ROWS = [
    '1,5,2015-06-19,4202,487,1,1,"0","0"\n',
    '2,5,2015-06-19,4926,544,1,1,0,"1"\n',
    '1,4,2015-06-18,0,0,0,0,"a",0\n',
]


def write(tmp_path: Path, rows: list[str], header: str = HEADER) -> str:
    path = tmp_path / "train.csv"
    path.write_text(header + "".join(rows))
    return str(path)


def test_reads_good_rows_with_both_state_holiday_spellings(tmp_path: Path) -> None:
    rows = read_history_csv(write(tmp_path, GOOD_ROWS))
    assert rows.store.tolist() == [1, 2, 1]
    assert rows.state_holiday.tolist() == [0, 0, 1]
    assert rows.date[0] == np.datetime64("2015-06-19")
    assert rows.line.tolist() == [2, 3, 4]


@pytest.mark.parametrize(
    ("rows", "header", "line", "column", "reason"),
    [
        (GOOD_ROWS, HEADER.replace(',"Promo"', ""), 1, "Promo", "missing"),
        ([GOOD_ROWS[0], '2,5,2015-06-31,10,1,1,1,"0","0"\n'], HEADER, 3, "Date", "not a YYYY-MM-DD"),
        ([GOOD_ROWS[0], '2,5,19.06.2015,10,1,1,1,"0","0"\n'], HEADER, 3, "Date", "not a YYYY-MM-DD"),
        ([GOOD_ROWS[0], '2,5,2015-06-19,-3,1,1,1,"0","0"\n'], HEADER, 3, "Sales", "out of range"),
        ([GOOD_ROWS[0], '2,5,2015-06-19,abc,1,1,1,"0","0"\n'], HEADER, 3, "Sales", "not an integer"),
        ([GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[0]], HEADER, 4, "Date", "duplicate row for Store 1"),
        ([GOOD_ROWS[0], '2,3,2015-06-19,10,1,1,1,"0","0"\n'], HEADER, 3, "DayOfWeek", "does not match"),
        ([GOOD_ROWS[0], '2,5,2015-06-19,10,1,1,1,"x","0"\n'], HEADER, 3, "StateHoliday", "not one of"),
        ([GOOD_ROWS[0], '2,5,2015-06-19,10,1,2,1,"0","0"\n'], HEADER, 3, "Open", "not 0 or 1"),
        ([GOOD_ROWS[0], '2,5,2015-06-19,10,1,0,0,"0","0"\n'], HEADER, 3, "Sales", "closed"),
        ([GOOD_ROWS[0], '2,5,2015-06-19,10,1,1\n'], HEADER, 3, None, "expected 9 fields"),
        ([], HEADER, 2, None, "no rows"),
    ],
)
def test_bad_input_names_file_line_and_column(
    tmp_path: Path, rows: list[str], header: str, line: int, column: str | None, reason: str
) -> None:
    path = write(tmp_path, rows, header)
    with pytest.raises(DataValidationError) as caught:
        read_history_csv(path)
    error = caught.value
    assert (error.source, error.line, error.column) == (path, line, column)
    assert reason in str(error)
    assert str(error).startswith(f"{path} line {line}")


def test_future_file_allows_empty_open_and_has_no_sales(tmp_path: Path) -> None:
    path = tmp_path / "test.csv"
    path.write_text(
        '"Id","Store","DayOfWeek","Date","Open","Promo","StateHoliday","SchoolHoliday"\n'
        '1,1,6,2015-06-20,1,0,"0","0"\n2,2,6,2015-06-20,,0,"0","0"\n'
    )
    rows = read_future_csv(str(path))
    assert rows.open.tolist() == [1, -1]
    assert rows.sales.tolist() == [-1, -1]


def test_gzip_and_an_excel_byte_order_mark_read_as_the_plain_file(tmp_path: Path) -> None:
    plain = read_history_csv(write(tmp_path, GOOD_ROWS))
    text = HEADER + "".join(GOOD_ROWS)
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "zipped.csv.gz").write_bytes(gzip.compress(text.encode()))
    for name in ("bom.csv", "zipped.csv.gz"):
        other = read_history_csv(str(tmp_path / name))
        np.testing.assert_array_equal(other.sales, plain.sales)
        np.testing.assert_array_equal(other.store, plain.store)


@pytest.mark.parametrize(("body", "line", "reason"), [
    ((HEADER + GOOD_ROWS[0] + "2,5,2015-06-19,4926,544,1,1,0,\xe9\n").encode("latin-1"), 3, "0xe9 is not UTF-8"),
    (b"\x1f\x8b\x08\x00 broken", None, "looks gzip-compressed but cannot be opened"),
])
def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path, body: bytes, line: int | None, reason: str) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(body)
    with pytest.raises(DataValidationError) as error:
        read_history_csv(str(path))
    assert (error.value.source, error.value.line) == (str(path), line) and reason in error.value.reason
