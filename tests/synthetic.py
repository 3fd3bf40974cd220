"""Small Kaggle-format Rossmann data with planted effects, for tests that need no real data.

Effects: promo days sell PROMO_LIFT times more, store 3 sells COMPETITOR_EFFECT times after its
competitor opens on COMPETITOR_OPENING, Sundays and state holidays are closed, store 5 has no rows
for GAP (a refurbishment, like the 180 real stores in 2014-H2).
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROMO_LIFT = 1.25
COMPETITOR_EFFECT = 0.90
COMPETITOR_STORE = 3
COMPETITOR_OPENING = np.datetime64("2014-03-01")
GAP_STORE = 5
GAP = (np.datetime64("2014-07-01"), np.datetime64("2014-08-31"))
STORE_TYPES = "abcd"


@dataclass(frozen=True)
class SyntheticData:
    directory: Path
    start: np.datetime64
    end: np.datetime64
    n_stores: int

    @property
    def files(self) -> tuple[Path, Path]:
        """train.csv and store.csv, the data bucket's objects."""
        return self.directory / "train.csv", self.directory / "store.csv"


def _holidays(dates: np.ndarray) -> np.ndarray:
    """StateHoliday letters per date: New Year, 1 May, Christmas (c) and Easter (b) 2013-2015."""
    labels = np.full(len(dates), "0", dtype="<U1")
    text = dates.astype(str)
    month_day = np.array([d[5:] for d in text])
    labels[np.isin(month_day, ["01-01", "05-01", "10-03"])] = "a"
    labels[np.isin(month_day, ["12-25", "12-26"])] = "c"
    easter = np.array(["2013-03-29", "2013-04-01", "2014-04-18", "2014-04-21", "2015-04-03", "2015-04-06"],
                      dtype="datetime64[D]")
    labels[np.isin(dates, easter)] = "b"
    return labels


def write_synthetic_data(directory: Path, n_stores: int = 8, start: str = "2013-01-01",
                         end: str = "2015-01-31", seed: int = 0) -> SyntheticData:
    """Write ``train.csv`` and ``store.csv`` into ``directory`` (sorted like Kaggle: date desc, store)."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    dates = np.arange(np.datetime64(start), np.datetime64(end) + 1)
    dow = (dates.astype(np.int64) + 3) % 7
    holiday = _holidays(dates)
    week = (dates.astype(np.int64) + 3) // 7
    promo = ((week % 2 == 0) & (dow < 5)).astype(int)
    school = ((dates.astype("datetime64[M]").astype(int) % 12 + 1) == 8).astype(int)
    base = rng.uniform(4000, 9000, size=n_stores)
    weekday_factor = np.array([1.15, 1.0, 0.95, 0.95, 1.05, 1.1, 0.8])
    rows = []
    for i, date in reversed(list(enumerate(dates))):
        for s in range(n_stores):
            store = s + 1
            if store == GAP_STORE and GAP[0] <= date <= GAP[1]:
                continue
            is_open = int(dow[i] != 6 and holiday[i] == "0")
            level = base[s] * weekday_factor[dow[i]] * (PROMO_LIFT if promo[i] else 1.0)
            if store == COMPETITOR_STORE and date >= COMPETITOR_OPENING:
                level *= COMPETITOR_EFFECT
            sales = round(level * rng.lognormal(0, 0.05)) if is_open else 0
            customers = round(sales / rng.uniform(8, 10)) if is_open else 0
            rows.append([store, int(dow[i]) + 1, str(date), sales, customers, is_open, promo[i] if is_open else 0,
                         holiday[i], school[i]])
    with open(directory / "train.csv", "w", newline="") as stream:
        writer = csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(["Store", "DayOfWeek", "Date", "Sales", "Customers", "Open", "Promo", "StateHoliday",
                         "SchoolHoliday"])
        for row in rows:
            writer.writerow([*row[:7], row[7], str(row[8])])
    with open(directory / "store.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Store", "StoreType", "Assortment", "CompetitionDistance", "CompetitionOpenSinceMonth",
                         "CompetitionOpenSinceYear", "Promo2", "Promo2SinceWeek", "Promo2SinceYear",
                         "PromoInterval"])
        for s in range(n_stores):
            store = s + 1
            opening = ("3", "2014") if store == COMPETITOR_STORE else (("", "") if s % 3 == 0 else ("6", "2010"))
            promo2 = s % 2
            writer.writerow([store, STORE_TYPES[s % 4], "abc"[s % 3], "" if s == 7 else 100 * (s + 1) ** 2,
                             *opening, promo2, "14" if promo2 else "", "2013" if promo2 else "",
                             "Jan,Apr,Jul,Oct" if promo2 else ""])
    return SyntheticData(directory, np.datetime64(start), np.datetime64(end), n_stores)
