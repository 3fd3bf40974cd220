"""The product's error hierarchy: every error raised for a reason outside the code derives from
:class:`RossmannError`, so callers catch "bad input, data, model or setting" in one clause and let
anything else (a bug) keep its traceback.

    RossmannError
    ├── DataValidationError   a data file holds a value the product cannot use (file, line, column)
    ├── DataRangeError        the data does not cover the days asked for (cutoff, horizon, history)
    ├── SettingsError         a required setting is missing or malformed
    ├── ModelError            a model version cannot be used
    │   ├── RegistryError         the registry or the requested version cannot be read
    │   ├── ArtifactIntegrityError a model file is missing or fails its sha256
    │   └── ManifestError         the manifest is malformed or the model does not fit this code
    └── RequestError          a forecast request this model version cannot answer
        ├── ForecastRequestError  names the input at fault (``loc``)
        └── UnknownStoreError     store ids without history in the version

Handlers add their own (``BatchError``, ``CommitError``, ``ModelUnavailableError``, ``PublishError``),
all derived from :class:`RossmannError`.
"""


class RossmannError(Exception):
    """Base of every error the product raises on bad input, data, models or settings."""


class DataValidationError(RossmannError):
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


class DataRangeError(RossmannError):
    """The data does not cover the days a step needs (too little history, a horizon past its end)."""


class SettingsError(RossmannError):
    """A required setting is missing or malformed; the message names the variable."""


class ModelError(RossmannError):
    """A model version cannot be used."""


class RegistryError(ModelError):
    """The registry or the requested version cannot be read."""


class ArtifactIntegrityError(ModelError):
    """A model file is missing or its sha256 differs from the manifest."""


class ManifestError(ModelError):
    """A manifest is malformed, or describes a model this code cannot serve (other features or inputs)."""


class RequestError(RossmannError):
    """A forecast request this model version cannot answer."""


class ForecastRequestError(RequestError):
    """``loc`` names the input at fault, e.g. ("covariates", 3, "date"); ``reason`` says why."""

    def __init__(self, loc: tuple[str | int, ...], reason: str) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {reason}")
        self.loc = loc
        self.reason = reason


class UnknownStoreError(RequestError):
    """Store ids the model version has no history for."""

    def __init__(self, store_ids: list[int]) -> None:
        super().__init__(f"unknown store{'s' if len(store_ids) > 1 else ''}: {', '.join(map(str, store_ids))}")
        self.store_ids = store_ids
