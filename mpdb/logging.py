"""Logs: one line per event on stderr, JSON (default outside dev) or key=value (`MPDB_LOG_FORMAT`).

structlog renders every record, ours and those of the libraries (uvicorn, neo4j, strawberry)
that log through the standard `logging` module, so one process writes one format. What a line may
carry is decided here, not at each call site:
- the request id of the request being served (asgi-correlation-id's context variable);
- exceptions as their type, their Neo4j error code and the frames (file, line, function) of the
  traceback: never the exception's message (Neo4j quotes parameter values, ours quote input) nor
  local variables;
- no `extra=` fields of foreign records (strawberry puts the whole query there).
Tokens, variables, names and dates of birth are never passed to a logger (docs/OPERATIONS.md).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

LogFormat = Literal["json", "console"]

# Loggers whose records could carry request content: uvicorn's access line has the query string
# (console pages take names in it); strawberry's execution logger prints each GraphQL error with
# the document and, for variable errors, the offending value. The access line is ours
# (mpdb/observability/requests.py), GraphQL errors are counted there by code.
_SILENCED = ("uvicorn.access", "strawberry.execution")


def _drop(_: logging.LogRecord) -> bool:
    return False


def silence_request_content_loggers() -> None:
    """A drop-everything filter on those loggers: unlike `disabled`, a filter survives the
    logging.config.dictConfig that uvicorn runs when it is given a log config (it re-enables
    every logger it was not told about). Idempotent."""
    for name in _SILENCED:
        logger = logging.getLogger(name)
        if _drop not in logger.filters:
            logger.addFilter(_drop)


def _request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    from asgi_correlation_id import correlation_id

    rid = correlation_id.get()
    if rid is not None and "request_id" not in event:
        event["request_id"] = rid
    return event


def _pid(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # `mpdb serve --workers N` runs N processes writing to one stream.
    event["pid"] = os.getpid()
    return event


def safe_exception(exc: BaseException) -> dict[str, Any]:
    """What a log may say about an exception: its type, a Neo4j error code, where it was raised,
    and the same for its causes. Not str(exc)."""
    out: dict[str, Any] = {"type": f"{type(exc).__module__}.{type(exc).__qualname__}"}
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code.startswith("Neo."):  # Neo4j's status codes name the failure
        out["neo4j_code"] = code
    out["frames"] = [f"{f.filename.rsplit('/site-packages/', 1)[-1]}:{f.lineno} {f.name}"
                     for f in traceback.extract_tb(exc.__traceback__)]
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and cause is not exc:
        out["cause"] = safe_exception(cause)
    return out


def _exception(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    exc_info = event.pop("exc_info", None)
    event.pop("stack_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        event["exception"] = safe_exception(exc_info)
    elif isinstance(exc_info, tuple) and exc_info[1] is not None:
        event["exception"] = safe_exception(exc_info[1])
    return event


def resolve_format(explicit: str | None = None) -> LogFormat:
    value = (explicit or os.environ.get("MPDB_LOG_FORMAT") or "").strip().lower()
    if value in ("json", "console"):
        return value  # type: ignore[return-value]
    return "console" if os.environ.get("MPDB_ENV", "dev").strip().lower() == "dev" else "json"


def configure_logging(level: int = logging.INFO, fmt: str | None = None) -> None:
    """Route every logger to stderr through structlog. `fmt`: json | console (key=value); default
    MPDB_LOG_FORMAT, else console in dev and json elsewhere."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        _pid,
        _request_id,
    ]
    renderer: Any = (structlog.processors.JSONRenderer(sort_keys=False) if resolve_format(fmt) == "json"
                     else structlog.processors.LogfmtRenderer(key_order=["ts", "level", "pid", "logger", "event"],
                                                              bool_as_flag=False))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[_exception, structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # loggers made before configure_logging (tests, imports) follow it
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn configures handlers of its own unless told not to: ours, like everyone's.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    silence_request_content_loggers()
    logging.captureWarnings(True)  # warnings as log lines too, not bare text on stderr
    logging.getLogger("neo4j").setLevel(logging.WARNING)
    # "label does not exist yet" notices on an empty graph are noise, not problems.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
