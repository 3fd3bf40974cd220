"""The handlers' one settings reader, the storage helpers and the code tables every layer shares."""

from pathlib import Path
from typing import get_args

import pytest

from forecast_api.schemas import StateHolidayCode
from rossmann_core import HORIZON_DAYS
from rossmann_core.data.daily_csv import STATE_HOLIDAY_CODES, STATE_HOLIDAY_LETTERS
from rossmann_core.errors import RossmannError, SettingsError
from rossmann_core.serving.settings import (
    DEFAULT_MODEL_CACHE_DIR,
    BatchSettings,
    ModelSettings,
    batch_settings,
    model_settings,
)
from rossmann_core.storage import s3_key, sha256_file, sha256_hex, split_s3_uri

BATCH_ENV = {"DATA_BUCKET": "data-b", "FORECAST_BUCKET": "forecast-b", "MODEL_REGISTRY": "s3://models-b/models"}


def test_model_settings_read_the_environment_and_an_argument_wins() -> None:
    environ = {"MODEL_REGISTRY": "s3://bucket/models", "MODEL_VERSION": " 20260101T000000Z ", "MODEL_CACHE_DIR": "/c"}
    assert model_settings(environ) == ModelSettings("s3://bucket/models", "20260101T000000Z", Path("/c"))
    assert model_settings(environ, registry="/local/models").registry == "/local/models"
    assert model_settings({"MODEL_REGISTRY": "m"}) == ModelSettings("m", None, DEFAULT_MODEL_CACHE_DIR)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "MODEL_REGISTRY is not set"),
        ({"MODEL_REGISTRY": "   "}, "MODEL_REGISTRY is not set"),
        ({"MODEL_REGISTRY": "s3:///models"}, "names no bucket"),
        ({"MODEL_REGISTRY": "m", "MODEL_VERSION": "../other"}, "is not a version name"),
        ({"MODEL_REGISTRY": "m", "MODEL_VERSION": ".hidden"}, "is not a version name"),
    ],
)
def test_bad_model_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        model_settings(environ)
    assert isinstance(raised.value, RossmannError)


def test_batch_settings_strip_prefixes_and_default_the_forecast_prefix() -> None:
    assert batch_settings(BATCH_ENV) == BatchSettings("data-b", "forecast-b", "", "forecasts", HORIZON_DAYS)
    custom = batch_settings({**BATCH_ENV, "DATA_PREFIX": "/raw/", "FORECAST_PREFIX": "out/nightly/"})
    assert (custom.data_prefix, custom.forecast_prefix) == ("raw", "out/nightly")


@pytest.mark.parametrize("text", ["0", "-3", "1.5", "many", "100001"])
def test_a_bad_shard_size_is_named(text: str) -> None:
    assert batch_settings(BATCH_ENV).shard_stores == 1_500
    assert batch_settings({**BATCH_ENV, "SHARD_STORES": " 300 "}).shard_stores == 300
    with pytest.raises(SettingsError, match=f"SHARD_STORES='{text}' is not a number of stores in 1..100000"):
        batch_settings({**BATCH_ENV, "SHARD_STORES": text})


@pytest.mark.parametrize("missing", ["DATA_BUCKET", "FORECAST_BUCKET"])
def test_a_missing_bucket_is_named(missing: str) -> None:
    environ = {name: value for name, value in BATCH_ENV.items() if name != missing}
    with pytest.raises(SettingsError, match=f"{missing} is not set"):
        batch_settings(environ)


def test_s3_keys_and_uris_join_without_empty_parts() -> None:
    assert s3_key("", "models/", "v1", "manifest.json") == "models/v1/manifest.json"
    assert s3_key("/forecasts/", "run_date=2015-06-20") == "forecasts/run_date=2015-06-20"
    assert split_s3_uri("s3://bucket/some/prefix/") == ("bucket", "some/prefix")
    assert split_s3_uri("s3://bucket") == ("bucket", "")


def test_file_and_bytes_checksums_agree(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert sha256_file(path) == sha256_hex(data) != sha256_hex(data[:-1])


def test_the_api_schema_accepts_exactly_the_state_holiday_letters_of_the_data() -> None:
    assert get_args(StateHolidayCode) == STATE_HOLIDAY_LETTERS
    assert [STATE_HOLIDAY_CODES[letter] for letter in STATE_HOLIDAY_LETTERS] == [0, 1, 2, 3]
