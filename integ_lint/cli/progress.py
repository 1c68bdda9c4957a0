"""A progress bar on stderr for scans that take longer than about a second.

The engine reports progress through a plain callback, ``callback(done, total)``, which
:func:`progress_bar` provides. Nothing is drawn unless stderr is a terminal (and
``NO_COLOR``/``CI`` do not matter: the bar is plain when colour is off), and nothing at
all before :data:`DELAY_SECONDS` have passed, so quick runs print no bar.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

ProgressCallback = Callable[[int, int], None]

DELAY_SECONDS = 1.0


def stream_is_terminal(stream: IO[str] | Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


class DelayedProgress:
    """Starts a rich progress bar on the first update after ``delay`` seconds."""

    def __init__(
        self,
        stream: IO[str] | Any,
        delay: float = DELAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        description: str = "Scanning",
    ) -> None:
        self.stream = stream
        self.delay = delay
        self.clock = clock
        self.description = description
        self.started = clock()
        self.progress: Any = None
        self.task: Any = None
        self.updates = 0

    def __call__(self, done: int, total: int) -> None:
        self.updates += 1
        if self.progress is None:
            if self.clock() - self.started < self.delay or done >= total:
                return
            self._start(total)
        self.progress.update(self.task, completed=done, total=total)

    def _start(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(
            file=self.stream,
            force_terminal=True,
            no_color=bool(os.environ.get("NO_COLOR")),
            highlight=False,
        )
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task(self.description, total=total)

    @property
    def shown(self) -> bool:
        return self.progress is not None

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


@contextmanager
def progress_bar(
    enabled: bool | None = None, stream: IO[str] | Any = None
) -> Iterator[ProgressCallback | None]:
    """Yield a progress callback, or None when no bar should be drawn.

    ``enabled=None`` means: draw only when ``stream`` (default stderr) is a terminal.
    """
    stream = stream if stream is not None else sys.stderr
    if enabled is None:
        enabled = stream_is_terminal(stream)
    if not enabled:
        yield None
        return
    bar = DelayedProgress(stream)
    try:
        yield bar
    finally:
        bar.close()
