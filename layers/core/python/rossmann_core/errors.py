"""Errors raised for bad input data."""


class DataValidationError(ValueError):
    """A data file holds a value the product cannot use.

    The message names the file, the 1-based line (the header is line 1), the column and why.
    """

    def __init__(self, source: str, line: int | None, column: str | None, reason: str) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason
        where = source
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {reason}")
