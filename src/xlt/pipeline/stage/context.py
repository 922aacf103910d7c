"""What a stage runs with (`Context`): its study's layout, the resources, precision, tracking and the progress
display, and the shared feature cache."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from xlt.data.features import cached_features
from xlt.pipeline.plan.resources import Resources
from xlt.pipeline.stage.build import load_tokenizer
from xlt.results.layout import StudyLayout
from xlt.runtime.display import LoopProgress, progress_bars
from xlt.runtime.distributed import main_first

if TYPE_CHECKING:
    from collections.abc import Iterator

    from xlt.pipeline.run.progress import StudyDisplay
    from xlt.pipeline.stage.tracking import Tracking


@dataclass(frozen=True)
class Reporting:
    """Where a stage reports while it runs: its progress (bars on a terminal, lines off one), the running study's
    display, experiment tracking."""

    progress: bool = True
    tracking: Tracking | None = None  # experiment tracking; None: off
    display: StudyDisplay | None = None  # the running study's progress display; None: each stage shows its own bar


@dataclass(frozen=True)
class Context:
    """What a stage needs: where its study lies (`layout`), what it runs on (the resources, the shared cache, the
    precision) and where it reports (`reporting`)."""

    layout: StudyLayout
    resources: Resources
    cache_root: Path
    mixed_precision: str = "no"
    reporting: Reporting = Reporting()

    def stage_dir(self, stage_hash: str) -> Path:
        return self.layout.stage(stage_hash)

    def features(
        self, spec, kind, examples: list[dict], split: str, lang: str, max_length: int, token_types: bool
    ) -> list[dict]:
        """The examples' features for this study's tokenizer, from the shared Arrow cache; `token_types`: whether
        the encoder embeds them (`Encoder.token_types`)."""
        key = {"split": split, "lang": lang, "data": self.resources.identity["data"]}
        with main_first():  # the main process writes a missing cache; the others then read it
            tokenizer = load_tokenizer(self.resources)
            return cached_features(kind, spec, examples, tokenizer, max_length, self.cache_root, key, token_types)


@contextmanager
def stage_progress(
    ctx: Context, name: str, total: int, done: int, examples_per_step: int, elapsed: float
) -> Iterator[LoopProgress]:
    """A training stage's progress: its bar in the study's display when one runs, else on its own (a worker, a
    cluster job), and its lines off a terminal. Shown by the main process of a launch only."""
    from xlt.runtime.distributed import is_main

    shown = ctx.reporting
    enabled = shown.progress and is_main()
    display = shown.display.progress if shown.display is not None else progress_bars(Console(stderr=True), enabled)
    with display if shown.display is None else nullcontext():
        bar = display.add_task(escape(name), total=total, completed=done)

        def update(step: int, loss: float) -> None:
            display.update(bar, completed=step, description=f"{escape(name)}  loss {loss:.4f}")

        try:
            yield LoopProgress(name, total, done, examples_per_step, display.console, enabled, elapsed, update)
        finally:
            display.remove_task(bar)
