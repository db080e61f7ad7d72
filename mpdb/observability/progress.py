"""Progress of long jobs (seed, import, bucket rebuild) that shows when nobody watches a terminal.

rich's bars draw nothing when stderr is not a terminal (a pipe, a log file, `docker logs`, CI), so
a seed looked stuck for minutes. This is rich's Progress, unchanged on a terminal; elsewhere it
draws nothing and writes a log line (logger `mpdb.progress`, event "progress": task, completed,
total, percent, elapsed_s) when a task crosses each 10 %, at least every `log_every` seconds
while it moves, and once when it completes.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import ProgressColumn, TaskID

log = structlog.get_logger("mpdb.progress")


class Progress(RichProgress):
    def __init__(self, *columns: str | ProgressColumn, console: Console | None = None, disable: bool = False,
                 log_every: float = 10.0, **kwargs: Any) -> None:
        console = console or Console(stderr=True)
        self._log_lines = not disable and not console.is_terminal
        self._log_every = log_every
        self._logged: dict[TaskID, tuple[float, int, float]] = {}  # when, which tenth, how many
        super().__init__(*columns, console=console, disable=disable or self._log_lines, **kwargs)

    def update(self, task_id: TaskID, **kwargs: Any) -> None:  # type: ignore[override]
        super().update(task_id, **kwargs)
        if self._log_lines:
            self._maybe_log(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        if self._log_lines:
            self._maybe_log(task_id)

    def _maybe_log(self, task_id: TaskID) -> None:
        with self._lock:
            task = self._tasks[task_id]
            completed, total, description = task.completed, task.total, task.description
            elapsed = task.elapsed or 0.0
        now = time.monotonic()
        last_at, last_tenth, last_completed = self._logged.get(task_id, (now, -1, -1.0))
        tenth = min(10, int(completed * 10 // total)) if total else -1
        if total and completed >= total:  # finished (also when the total shrank to what was done)
            if last_tenth == 10 and last_completed == completed:
                return
            tenth = 10
        elif completed == last_completed or not (tenth > last_tenth or now - last_at >= self._log_every):
            return
        self._logged[task_id] = (now, tenth, completed)
        fields: dict[str, Any] = {"task": description, "completed": int(completed), "elapsed_s": round(elapsed, 1)}
        if total:
            fields |= {"total": int(total), "percent": round(100 * completed / total, 1)}
        log.info("progress", **fields)
