"""Structured (key=value) logs to stderr. Never log tokens or request variables: they carry
personal data."""

from __future__ import annotations

import logging
import sys


class _KeyValueFormatter(logging.Formatter):
    """pid: `mpdb serve --workers N` runs N processes writing to one stream."""

    def format(self, record: logging.LogRecord) -> str:
        base = f"ts={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} level={record.levelname.lower()} " \
               f"pid={record.process} logger={record.name} msg={record.getMessage()!r}"
        if record.exc_info:
            base += "\n" + self.formatException(record.exc_info)
        return base


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("neo4j").setLevel(logging.WARNING)
    # "label does not exist yet" notices on an empty graph are noise, not problems.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
