"""Outermost request handling (pure ASGI): request id, body size limit, JSON bodies only, access log,
no stack traces.

A request with a body must declare ``content-type: application/json`` (else 415), its JSON may not be
nested deeper than MAX_JSON_DEPTH (else 422; the request schemas need three levels, and Python's parser
would give up with a RecursionError near a thousand) and may not repeat a key in any object (else 422
naming the key; Python's parser would silently keep the last). Other malformed JSON is left to FastAPI's
own 422. A HEAD request is answered as the GET of the same path without its body (uptime monitors use
HEAD).

The request id is the Lambda invocation's ``aws_request_id`` when Mangum passes a context, else a
fresh UUID (uvicorn); it is returned in the ``x-request-id`` header and added to every log line of the
request (Powertools' context keys). In Lambda, Powertools adds the invocation's own keys (cold start,
function request id, API Gateway's request id as ``correlation_id``: ``api_lambda.handler``).
"""

import json
import logging
import re
import time
import uuid
from typing import Any

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rossmann_core.serving import logs

SERVICE = "forecast_api"
log = logging.getLogger("forecast_api.access")

MAX_BODY_BYTES = 1024 * 1024
REQUEST_ID_HEADER = "x-request-id"


JSON_MEDIA_TYPE = "application/json"


class BodyTooLargeError(Exception):
    pass


class DuplicateKeyError(ValueError):
    """A JSON object repeats a key."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` object hook: the object, or DuplicateKeyError naming the first repeated key."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise DuplicateKeyError(key)
        document[key] = value
    return document


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name.lower() == wanted:
            return value
    return None


MAX_JSON_DEPTH = 16
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
OPENING, CLOSING = np.frombuffer(b"[{", dtype=np.uint8), np.frombuffer(b"]}", dtype=np.uint8)


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in ``body`` (brackets inside strings not counted), without parsing."""
    brackets = np.frombuffer(_JSON_STRING.sub(b"", body), dtype=np.uint8)
    step = np.isin(brackets, OPENING).astype(np.int64) - np.isin(brackets, CLOSING)
    return int(np.cumsum(step).max(initial=0))



def body_problem(scope: Scope, body: bytes) -> tuple[int, Any] | None:
    """(status, detail) refusing a body that is not a JSON document with unique keys, None to accept it."""
    if not body:
        return None
    media_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower().decode("latin-1")
    if media_type != JSON_MEDIA_TYPE:
        return 415, f"request body must be {JSON_MEDIA_TYPE}, not {media_type or 'undeclared'}"
    if json_depth(body) > MAX_JSON_DEPTH:
        return 422, [{"loc": ["body"], "msg": f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
                      "type": "json_too_deep"}]
    try:
        json.loads(body, object_pairs_hook=_unique_keys)
    except DuplicateKeyError as error:
        return 422, [{"loc": ["body"], "msg": f"duplicate key {error.args[0]!r} in a JSON object",
                      "type": "duplicate_key"}]
    except ValueError:  # not JSON at all: FastAPI answers its own 422 (json_invalid)
        return None
    return None


def _request_id(scope: Scope) -> str:
    context = scope.get("aws.context")
    return str(getattr(context, "aws_request_id", None) or uuid.uuid4())


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestContextMiddleware:
    """Wraps the app: 413 for bodies over ``max_body_bytes``, JSON 500 for unexpected errors."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def _read_body(self, receive: Receive) -> bytes:
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLargeError
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        with logs.logger(SERVICE).append_context_keys(request_id=request_id):
            await self._serve(scope, receive, send, request_id)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        state: dict[str, Any] = {"status": None, "bytes": 0}
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
                if head:
                    message = {**message, "body": b""}
            await send(message)

        try:
            declared = _declared_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                raise BodyTooLargeError
            body = await self._read_body(receive)
            problem = body_problem(scope, body)
            if problem is not None:
                await _send_json(send_with_id, problem[0], {"detail": problem[1]})
                return
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if delivered:
                    return await receive()
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send_with_id)
        except BodyTooLargeError:
            await _send_json(send_with_id, 413, {"detail": f"request body is larger than {self.max_body_bytes} bytes"})
        except Exception:
            log.exception("unhandled error", extra={"event": "unhandled_error"})
            if state["status"] is None:
                await _send_json(send_with_id, 500, {"detail": "internal error", "request_id": request_id})
        finally:
            duration_ms = round(1000 * (time.perf_counter() - started), 2)
            method = "HEAD" if head else scope["method"]
            log.info(
                "%s %s %s", method, scope["path"], state["status"],
                extra={
                    "event": "request", "method": method, "path": scope["path"], "status": state["status"],
                    "response_bytes": state["bytes"], "duration_ms": duration_ms,
                },
            )
            logs.metrics(SERVICE).add_metric("RequestLatency", MetricUnit.Milliseconds, duration_ms)


def record_forecast(stores: int, rows: int) -> None:
    """Count one answered forecast's stores and rows (store x day) in the request's metrics."""
    metrics = logs.metrics(SERVICE)
    metrics.add_metric("ForecastStores", MetricUnit.Count, stores)
    metrics.add_metric("ForecastRows", MetricUnit.Count, rows)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
