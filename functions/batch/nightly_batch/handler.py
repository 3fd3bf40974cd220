"""Lambda plumbing of the nightly batch: shared settings, the shared model cache, JSON logs, failures as values.

``handle(event)`` never raises: a failed run returns ``{"status": "failed", "error": ...}`` and logs
the reason at ERROR (with a traceback only for an unexpected error, i.e. a bug); since nothing is
written before the forecast is complete, the previous output stays. The model comes through the
same :class:`~rossmann_core.serving.model_cache.ModelCache` and load-time checks as the API's, but
``latest.json`` is re-read on every run, so a newly published version is used the next night.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any

from nightly_batch.run import run_batch, run_date_of
from rossmann_core.errors import RossmannError
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving.logs import request_id_var
from rossmann_core.serving.model_cache import ModelCache
from rossmann_core.serving.settings import batch_settings, model_settings
from rossmann_core.storage import s3_client

log = logging.getLogger("nightly_batch")

_cache: ModelCache[ModelVersion] = ModelCache(lambda version: version)


def handle(event: Mapping[str, Any], request_id: str | None = None,
           environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run the batch for ``event``; return the summary with ``status: ok``, or the failure reason.

    ``environ`` defaults to ``os.environ`` (see :mod:`rossmann_core.serving.settings`).
    """
    started = time.perf_counter()
    token = request_id_var.set(request_id)
    run_date = None
    try:
        run_date = run_date_of(event)
        settings, models = batch_settings(environ), model_settings(environ)
        summary = run_batch(run_date, settings, s3_client(), lambda: _cache.get(models, follow_latest=True),
                            run_id=request_id)
    except Exception as error:
        failure = {
            "status": "failed",
            "run_date": None if run_date is None else str(run_date),
            "error": f"{type(error).__name__}: {error}",
            "request_id": request_id,
            "seconds": round(time.perf_counter() - started, 3),
        }
        log.error("nightly batch failed: %s", failure["error"], exc_info=not isinstance(error, RossmannError),
                  extra={"event": "batch_failed", **failure})
        return failure
    finally:
        request_id_var.reset(token)
    result = {"status": "ok", **summary, "seconds": round(time.perf_counter() - started, 3)}
    log.info("nightly batch done: %s, %d rows", result["run_date"], result["rows"],
             extra={"event": "batch_done", **{k: v for k, v in result.items() if k != "data"}})
    return result


def reset() -> None:
    """Forget the model in memory (tests; a new registry setting)."""
    _cache.clear()
