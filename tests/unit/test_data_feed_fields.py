"""The data feed's fields are one list: what the batch writes, what the state pointer accepts, what the API shows."""

import json

import numpy as np

from forecast_api.schemas import DataFeed as DataFeedSchema
from nightly_batch.completeness import DataFeed
from rossmann_core.serving.history_state import FEED_FIELDS, feed_of


def test_the_batch_writes_what_the_pointer_accepts_and_the_api_documents() -> None:
    # GIVEN a measured feed as the batch writes it into the summary and the state pointer
    feed = DataFeed(np.datetime64("2015-06-19"), np.datetime64("2015-06-18"), True, np.array([3, 7]), 900,
                    np.array(["2015-06-01"], dtype="datetime64[D]"), 454, 455).to_dict()
    # THEN the pointer's check takes it as it is (every field, each of its type), and the API's schema has the same
    # fields and reads it
    assert feed_of(json.loads(json.dumps(feed)), "pointer") == feed
    assert set(feed) == set(FEED_FIELDS) == set(DataFeedSchema.model_fields)
    assert DataFeedSchema.model_validate(feed).stores_missing_newest_day_ids == [3, 7]
