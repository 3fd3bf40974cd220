"""The vectorised CSV path: same result as the row-by-row reader, and None for anything not plain."""

import io
import logging

import numpy as np
import pytest

from rossmann_core.data import csv_fast
from rossmann_core.data.daily_csv import (
    _ARRAY_FIELDS,
    FUTURE_COLUMNS,
    HISTORY_COLUMNS,
    DailyRows,
    _row_values,
    _validated,
    parse_daily_bytes,
)
from synthetic import SyntheticData


def parse_logging_path(data: bytes, columns: tuple[str, ...],
                       caplog: pytest.LogCaptureFixture) -> tuple[DailyRows, str]:
    """(parsed rows, the reader that ran: "vectorised" or "row by row", as the loader logs it)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rossmann_core.data.daily_csv"):
        parsed = parse_daily_bytes(data, "file.csv", columns)
    (message,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("read file.csv")]
    return parsed, message.rsplit("(", 1)[1].rstrip(")")


def test_vectorised_path_matches_the_row_by_row_reader(synthetic: SyntheticData,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    data = (synthetic.directory / "train.csv").read_bytes()
    fast, path = parse_logging_path(data, HISTORY_COLUMNS, caplog)
    assert path == "vectorised"
    assert csv_fast.split_plain(data[data.index(b"\n") + 1 :], len(HISTORY_COLUMNS)) is not None
    position = {name: i for i, name in enumerate(HISTORY_COLUMNS)}
    slow = _validated(_row_values(io.StringIO(data.decode(), newline=""), "train.csv", position), "train.csv", True)
    for name in _ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
        assert getattr(fast, name).dtype == getattr(slow, name).dtype


def test_a_body_that_is_not_plain_falls_back_to_the_row_by_row_reader(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN the same future rows twice, once with a comma inside a quoted Id (a column the loader ignores)
    header = b'"Id","Store","DayOfWeek","Date","Open","Promo","StateHoliday","SchoolHoliday"\n'
    rows = b'%s,1,6,2015-06-20,1,0,"0","0"\n2,2,6,2015-06-20,,1,"a","1"\n'
    plain, plain_path = parse_logging_path(header + rows % b"1", FUTURE_COLUMNS, caplog)
    quoted, quoted_path = parse_logging_path(header + rows % b'"1,5"', FUTURE_COLUMNS, caplog)
    # THEN only the second needs the csv module, and both give the same rows
    assert (plain_path, quoted_path) == ("vectorised", "row by row")
    for name in _ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(plain, name), getattr(quoted, name))


def test_split_plain_strips_whole_field_quotes_and_accepts_crlf_and_no_final_newline() -> None:
    fields = csv_fast.split_plain(b'1,"a",22\r\n"333",,4', 3)
    assert fields is not None
    assert fields.length.tolist() == [[1, 1, 2], [3, 0, 1]]
    assert csv_fast.digits(fields, 0).tolist() == [1, 333]
    assert csv_fast.codes(fields, 1, {"a": 7, "": -1}).tolist() == [7, -1]


@pytest.mark.parametrize(
    "body",
    [b'1,"a,b",3\n', b'1,"a"b",3\n', b'1,a"",3\n', b"1,2\n", b"1,2,3\n\n", b"", b'1,"\n",3\n'],
)
def test_split_plain_refuses_bodies_that_are_not_plain(body: bytes) -> None:
    assert csv_fast.split_plain(body, 3) is None


@pytest.mark.parametrize(("text", "ok"), [("12", True), ("-1", False), (" 1", False), ("1.0", False), ("", False)])
def test_digits_take_only_plain_decimal_digits(text: str, ok: bool) -> None:
    fields = csv_fast.split_plain(f"5,{text}\n".encode(), 2)
    assert (csv_fast.digits(fields, 1) is not None) == ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2016-02-29", "2016-02-29"), ("2015-02-29", None), ("2015-13-01", None), ("2015/01/01", None),
     ("15-01-01", None), ("1999-12-31", "1999-12-31")],
)
def test_iso_dates_are_validated_like_numpy(text: str, expected: str | None) -> None:
    dates = csv_fast.iso_dates(csv_fast.split_plain(f"{text}\n".encode(), 1), 0)
    assert (None if dates is None else str(dates[0])) == expected
