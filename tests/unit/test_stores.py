"""store.csv parsing: empty fields become NaN, bad values name the line and column."""

from pathlib import Path

import numpy as np
import pytest

from rossmann_core.data.stores import read_store_csv
from rossmann_core.errors import DataValidationError

HEADER = (
    "Store,StoreType,Assortment,CompetitionDistance,CompetitionOpenSinceMonth,CompetitionOpenSinceYear,"
    "Promo2,Promo2SinceWeek,Promo2SinceYear,PromoInterval\n"
)


def test_parses_real_shapes(tmp_path: Path) -> None:
    path = tmp_path / "store.csv"
    path.write_text(HEADER + '2,a,a,570,11,2007,1,13,2010,"Jan,Apr,Jul,Oct"\n1,c,a,,,,0,,,""\n')
    table = read_store_csv(str(path))
    assert table.store_id.tolist() == [1, 2]
    assert np.isnan(table.competition_distance[0])
    assert table.promo2_months[1].tolist() == [True, False, False] * 4
    assert table.index_of(np.array([2, 9])).tolist() == [1, -1]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("1,e,a,570,11,2007,0,,,\n", "StoreType", "not one of"),
        ("1,a,a,far,11,2007,0,,,\n", "CompetitionDistance", "not a number"),
        ("1,a,a,570,13,2007,0,,,\n", "CompetitionOpenSinceMonth", "out of range"),
        ('1,a,a,570,11,2007,1,13,2010,"Jan,Foo"\n', "PromoInterval", "unknown month"),
    ],
)
def test_bad_values_name_line_and_column(tmp_path: Path, row: str, column: str, reason: str) -> None:
    path = tmp_path / "store.csv"
    path.write_text(HEADER + row)
    with pytest.raises(DataValidationError, match=reason) as caught:
        read_store_csv(str(path))
    assert (caught.value.line, caught.value.column) == (2, column)
