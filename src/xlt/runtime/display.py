"""What a process prints about its own progress: off a terminal, timestamped plain lines (`nohup`, Slurm,
`> log 2>&1`, a worker's log): a loop's step every $XLT_LOG_EVERY seconds (default 30) and at least every tenth of
the loop, and the loop's end (`LoopProgress`); on one, rich's bars. The libraries' own bars and warnings are
silenced (`quiet_libraries`): they would bury xlt's lines."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xlt.errors import XltError

if TYPE_CHECKING:
    from collections.abc import Callable

LOG_EVERY = "XLT_LOG_EVERY"  # seconds between two progress lines of a loop off a terminal
DEFAULT_LOG_EVERY = 30.0


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else (f"{minutes}m{secs:02d}s" if minutes else f"{secs}s")


def log_every() -> float:
    """Seconds between two progress lines of a loop off a terminal: $XLT_LOG_EVERY, else 30 (0: every step)."""
    value = os.environ.get(LOG_EVERY, "").strip()
    try:
        seconds = float(value) if value else DEFAULT_LOG_EVERY
    except ValueError:
        seconds = math.nan
    if not (0 <= seconds < math.inf):
        raise XltError(f"{LOG_EVERY}={value}: not a number of seconds; set it to 0 or more (e.g. 30), or unset it")
    return seconds


def stamped(line: str) -> str:
    """A log line: the local date and time, then the line."""
    return f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}"


def log(line: str) -> None:
    """A timestamped line on stderr, where no display runs: a worker's log, a cluster job's output."""
    print(stamped(line), file=sys.stderr, flush=True)


class LoopProgress:
    """A training loop's progress as plain timestamped lines, where no bar shows it (off a terminal): the step,
    loss, examples a second and time left every `log_every()` seconds and at least every tenth of the loop, then
    its end with its wall time and final loss. On a terminal and off one, a resumed loop says where it resumes.
    `bar`: the loop's bar, told each step and its loss (it shows only on a terminal)."""

    def __init__(
        self,
        name: str,
        total: int,
        done: int,
        examples_per_step: int,
        console: Console,
        enabled: bool,
        elapsed: float = 0.0,
        bar: Callable[[int, float], None] | None = None,
    ):
        self.name, self.total, self.examples_per_step, self.console, self.bar = (
            name, total, examples_per_step, console, bar
        )  # fmt: skip
        self.every = log_every()
        self.plain = enabled and not console.is_terminal
        self.first, self.started, self.elapsed = done, time.monotonic(), elapsed  # this run's; earlier runs' time
        self.last_line, self.last_tenth = self.started, self._tenth(done)
        if enabled and done:
            self._say(f"resuming from step {done} of {total}")

    def begin(self, recipe: str) -> None:
        """Off a terminal: the loop's start, with what it trains (a stage's start line is the scheduler's)."""
        if self.plain:
            self._say(recipe)

    def step(self, step: int, loss: float) -> None:
        if self.bar is not None:
            self.bar(step, loss)
        now, tenth = time.monotonic(), self._tenth(step)
        if not self.plain or step >= self.total or (now - self.last_line < self.every and tenth == self.last_tenth):
            return
        self.last_line, self.last_tenth = now, tenth
        pace = (step - self.first) / max(now - self.started, 1e-9)  # steps a second, in this run
        self._say(
            f"step {step}/{self.total} ({100 * step // self.total}%), loss {loss:.4f}, "
            f"{pace * self.examples_per_step:.1f} examples/s, about {duration((self.total - step) / pace)} left"
        )

    def end(self, final_loss: float | None) -> None:
        """Off a terminal: the loop's end, its wall time counting earlier runs'."""
        if self.plain:
            loss = "" if final_loss is None else f", final loss {final_loss:.4f}"
            wall = self.elapsed + time.monotonic() - self.started
            self._say(f"done: {self.total} steps in {duration(wall)}{loss}")

    def _tenth(self, step: int) -> int:
        return 10 * step // self.total if self.total else 10

    def _say(self, text: str) -> None:
        line = f"{self.name}: {text}"
        self.console.print(stamped(line) if self.plain else line, highlight=False, markup=False, soft_wrap=True)


def progress_bars(console: Console, enabled: bool) -> Progress:
    """xlt's bars: description, bar, done / total, elapsed; shown only on a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not (enabled and console.is_terminal),
    )


def quiet_libraries() -> None:
    """xlt shows its own progress and one-line errors; the libraries' bars and warnings would bury them."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
