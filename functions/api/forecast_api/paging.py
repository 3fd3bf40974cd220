"""Pages of a many-store forecast answer, so no answer outgrows Lambda's 6 MB synchronous response.

``POST /forecasts`` answers at most PAGE_STORES stores (ascending id) per response; the response says
``page``, ``pages``, ``page_stores``, ``stores_requested`` and ``next_page`` (null on the last page),
and the caller asks again with the same body and ``"page": next_page``. Up to PAGE_STORES stores
(every store of today's 1,115-store fleet included) the answer is one page, as before paging.
"""

from dataclasses import dataclass

import numpy as np

LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
"""Lambda's limit on a synchronous invocation's response payload (the API Gateway integration's JSON)."""
STORE_ANSWER_BYTES = 3_321
"""The largest one-store, 42-day answer measured in Lambda's response: real model 20261130T112113Z, all
1,115 stores through the handler (mean 3,139 bytes; the body's JSON is escaped again inside the
invocation's JSON). docs/scaling.md, "The API for many stores"."""
PAGE_STORES = 1_250
"""Stores per page: 1,250 x 3,321 bytes = 4.2 MB, 66 % of the limit, so an answer may grow 45 % (e.g. stores
selling ten times more, a digit more per figure) before a full page would reach it."""
MAX_PAGE = 1_000


@dataclass(frozen=True)
class Page:
    """Page ``number`` (1-based) of ``pages`` over ``requested`` stores, ``size`` stores per page."""

    number: int
    pages: int
    size: int
    requested: int

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    def fields(self) -> dict[str, int | None]:
        """The response's paging fields."""
        return {"page": self.number, "pages": self.pages, "page_stores": self.size,
                "stores_requested": self.requested, "next_page": self.next}


def page_of(store_ids: np.ndarray, number: int) -> tuple[np.ndarray, Page] | None:
    """The ascending ``store_ids`` of page ``number`` and the page, or None if there is no such page."""
    size = PAGE_STORES
    pages = max(1, -(-len(store_ids) // size))
    if not 1 <= number <= pages:
        return None
    return store_ids[(number - 1) * size:number * size], Page(number, pages, size, len(store_ids))
