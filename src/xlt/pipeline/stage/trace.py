"""A test hook: record what each training step trained on, so a training loop outside xlt can replay it.

Tests set (never a user) XLT_TRACE_BATCHES=<file>; then every training step appends one JSON line

    {"stage": <stage hash>, "step": <n, from 0>, "rank": <process>, "seed": <dropout seed>,
     "batch": [[<language>, <feature index>], ...]}

`batch` is this process's share of the step's batch, in the order the kind collates it (feature i of a
language is its i-th training example, unless the kind split that example into several features);
`seed` is what `torch.manual_seed` was given before the step's forward pass, so a replay draws the same
dropout masks. The step's loss is the stage's loss.json. A resumed run appends the steps it runs.
Unset, a step costs one environment look-up. tests/test_training_reference.py replays the trace.
"""

from __future__ import annotations

import json
import os

VARIABLE = "XLT_TRACE_BATCHES"


def step(stage_hash: str, step: int, rank: int, seed: int, batch: list[tuple[str, int]]) -> None:
    path = os.environ.get(VARIABLE)
    if not path:
        return
    line = {"stage": stage_hash, "step": step, "rank": rank, "seed": seed, "batch": [list(pair) for pair in batch]}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
