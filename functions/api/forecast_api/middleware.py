"""Outermost request handling (pure ASGI): request id, body size limit, access log, no stack traces.

The request id is the Lambda invocation's ``aws_request_id`` when Mangum passes a context, else a
fresh UUID; it is set for the JSON logs and returned in the ``x-request-id`` header.
"""

import json
import logging
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rossmann_core.serving.logs import request_id_var

log = logging.getLogger("forecast_api.access")

MAX_BODY_BYTES = 1024 * 1024
REQUEST_ID_HEADER = "x-request-id"


class BodyTooLargeError(Exception):
    pass


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
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        state: dict[str, Any] = {"status": None, "bytes": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            declared = _declared_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                raise BodyTooLargeError
            body = await self._read_body(receive)
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
            log.info(
                "%s %s %s", scope["method"], scope["path"], state["status"],
                extra={
                    "event": "request", "method": scope["method"], "path": scope["path"], "status": state["status"],
                    "response_bytes": state["bytes"], "duration_ms": round(1000 * (time.perf_counter() - started), 2),
                    "api_request_id": ((scope.get("aws.event") or {}).get("requestContext") or {}).get("requestId"),
                },
            )
            request_id_var.reset(token)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
