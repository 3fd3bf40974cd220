"""Logs, metrics and traces of both handlers through Powertools for AWS Lambda (Python): one place for each.

- ``logger(service)``: the function's Powertools Logger (JSON lines: level, location, message, timestamp,
  service, cold_start, function_name/function_request_id, correlation_id, and any ``extra={...}``
  fields). Its formatter is also put on the root logger's handlers, so the stdlib loggers of every
  module (``rossmann_core.*``, ``forecast_api.*``, ``nightly_batch.*``) write the same lines with the same
  keys; ``logger().append_context_keys(...)`` adds keys for one request (context-local).
- ``metrics``: CloudWatch embedded-metric-format metrics in one namespace (METRICS_NAMESPACE), flushed
  by ``log_metrics`` at the end of each invocation (and every 100 values of a metric outside Lambda).
- ``tracer``: X-Ray subsegments (``tracer.capture_method``); off outside Lambda (Powertools' rule).

The service name is the handler's (``forecast_api``, ``nightly_batch``): the ``service`` key of every log
line and a dimension of every metric (template.yaml's accuracy alarms name ``nightly_batch``).
"""

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "RossmannForecast"

_loggers: dict[str, Logger] = {}
_metrics: dict[str, Metrics] = {}


def logger(service: str) -> Logger:
    """The Powertools Logger of ``service`` (one per process); formats every root handler like itself."""
    if service not in _loggers:
        # Its own records, like every module's, reach the root handlers (a handler of its own would print the
        # records of its namesake modules, e.g. ``forecast_api.access``, twice); the NullHandler holds the formatter.
        powertools = Logger(service=service, logger_handler=logging.NullHandler())
        root = logging.getLogger()
        if not root.handlers:
            root.addHandler(logging.StreamHandler())
        for handler in root.handlers:
            handler.setFormatter(powertools.registered_formatter)
        root.setLevel(powertools.log_level)
        _loggers[service] = powertools
    return _loggers[service]


def metrics(service: str) -> Metrics:
    """The EMF metrics of ``service`` in METRICS_NAMESPACE (Powertools shares one metric set per namespace; one
    instance per service and process, as building one costs more than the metric it records)."""
    if service not in _metrics:
        _metrics[service] = Metrics(namespace=METRICS_NAMESPACE, service=service)
    return _metrics[service]


def tracer(service: str) -> Tracer:
    """The X-Ray tracer of ``service`` (Powertools shares one per process; disabled outside Lambda)."""
    return Tracer(service=service)
