"""Vectorised reading of "plain" CSV bodies: one pass of numpy over the bytes, no Python per row.

Plain means: rows end in ``\\n`` (or ``\\r\\n``), every row has exactly ``width`` comma-separated
fields, and a field is either unquoted or wholly wrapped in one pair of double quotes with no quote,
comma or newline inside. Kaggle's files are plain. Every function returns None as soon as the input
is not plain or a field does not have the expected form; the caller then falls back to the
row-by-row reader, which accepts the same files and names the line and column of a bad value.
"""

from dataclasses import dataclass

import numpy as np

_COMMA, _NEWLINE, _QUOTE, _ZERO, _DASH = 44, 10, 34, 48, 45


@dataclass(frozen=True)
class Fields:
    """Where each field of a plain body lies, quotes excluded.

    ``data`` is uint8 (n_bytes,); ``start`` and ``length`` are int64 (n_rows, width), in bytes.
    """

    data: np.ndarray
    start: np.ndarray
    length: np.ndarray

    @property
    def n_rows(self) -> int:
        return self.start.shape[0]

    def byte_at(self, column: int, offset: int) -> np.ndarray:
        """uint8 (n_rows,): byte ``offset`` of every field in ``column`` (clipped to the buffer)."""
        index = np.minimum(self.start[:, column] + offset, len(self.data) - 1)
        return self.data[index]


def split_plain(body: bytes, width: int) -> Fields | None:
    """The fields of ``body`` (the file without its header line), or None if it is not plain."""
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n")
    if not body.endswith(b"\n"):
        body += b"\n"
    data = np.frombuffer(body, dtype=np.uint8)
    delimiter = np.flatnonzero((data == _COMMA) | (data == _NEWLINE))
    if len(delimiter) == 0 or len(delimiter) % width:
        return None
    row_ends = data[delimiter] == _NEWLINE
    if not np.array_equal(row_ends, np.arange(len(delimiter)) % width == width - 1):
        return None
    start = np.empty(len(delimiter), dtype=np.int64)
    start[0] = 0
    start[1:] = delimiter[:-1] + 1
    length = delimiter - start
    n_quotes = int(np.count_nonzero(data == _QUOTE))
    if n_quotes:
        quoted = (length >= 2) & (data[start] == _QUOTE) & (data[np.maximum(start + length - 1, 0)] == _QUOTE)
        if n_quotes != 2 * int(quoted.sum()):
            return None
        start += quoted
        length -= 2 * quoted
    return Fields(data, start.reshape(-1, width), length.reshape(-1, width))


def digits(fields: Fields, column: int) -> np.ndarray | None:
    """int64 (n_rows,) of a column of 1..18 plain decimal digits (no sign, no blanks), else None."""
    length = fields.length[:, column]
    if length.min() < 1 or length.max() > 18:
        return None
    value = np.zeros(fields.n_rows, dtype=np.int64)
    for offset in range(int(length.max())):
        inside = offset < length
        digit = fields.byte_at(column, offset).astype(np.int64) - _ZERO
        if ((digit < 0) | (digit > 9))[inside].any():
            return None
        value = np.where(inside, value * 10 + digit, value)
    return value


def codes(fields: Fields, column: int, mapping: dict[str, int]) -> np.ndarray | None:
    """int8 (n_rows,) codes of a column whose fields are keys of ``mapping`` of at most one character."""
    if any(len(key) > 1 for key in mapping):
        raise ValueError("codes() maps fields of at most one character")
    length = fields.length[:, column]
    table = np.full(257, -128, dtype=np.int16)
    for key, code in mapping.items():
        table[ord(key) if key else 256] = code
    index = np.where(length == 0, 256, fields.byte_at(column, 0).astype(np.int64))
    out = np.where(length <= 1, table[index], -128)
    if (out == -128).any():
        return None
    return out.astype(np.int8)


def iso_dates(fields: Fields, column: int) -> np.ndarray | None:
    """datetime64[D] (n_rows,) of a column of valid ``YYYY-MM-DD`` dates, else None."""
    if (fields.length[:, column] != 10).any():
        return None
    part = {}
    for name, offsets in (("year", range(4)), ("month", (5, 6)), ("day", (8, 9))):
        value = np.zeros(fields.n_rows, dtype=np.int64)
        for offset in offsets:
            digit = fields.byte_at(column, offset).astype(np.int64) - _ZERO
            if ((digit < 0) | (digit > 9)).any():
                return None
            value = value * 10 + digit
        part[name] = value
    if ((fields.byte_at(column, 4) != _DASH) | (fields.byte_at(column, 7) != _DASH)).any():
        return None
    if ((part["month"] < 1) | (part["month"] > 12) | (part["day"] < 1)).any():
        return None
    month = ((part["year"] - 1970) * 12 + part["month"] - 1).astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    month_days = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    if (part["day"] > month_days).any():
        return None
    return first + (part["day"] - 1).astype("timedelta64[D]")
