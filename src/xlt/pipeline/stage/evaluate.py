"""Zero-shot evaluation sweep: one trained stage (or a reference) scored on every evaluation language.

Each language yields the official metrics (xlt.metrics, the same code as `xlt score`), per-example
units of the primary metric for the report's paired bootstrap, predictions in the XTREME
submission layout, so a study's outputs can be scored by either tool, and each example's text, gold and
prediction (`examples/`, what the report's examples and degenerate-recipe marks read). Under several processes the
batches are dealt out among them and the main process scores and writes.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import torch

from xlt.kinds import get_kind
from xlt.metrics import UNITS as UNIT_SCORERS
from xlt.model import load_trainable
from xlt.pipeline.plan import carry
from xlt.pipeline.plan.graph import EvalStage, TrainStage, criterion_of
from xlt.pipeline.stage.build import build_task_model
from xlt.pipeline.stage.context import Context
from xlt.pipeline.stage.directory import mark_complete, stage_info
from xlt.pipeline.stage.evaluator import Evaluator, official_scores
from xlt.pipeline.stage.tracking import log_evaluation
from xlt.results.layout import EXAMPLES, PREDICTIONS, ROWS, UNITS
from xlt.results.rows import ScoreRow
from xlt.runtime import interrupts
from xlt.runtime.distributed import any_process, is_main, on_main, state
from xlt.runtime.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from xlt.runtime.machine import cpu_kernels
from xlt.submission import write_predictions
from xlt.tasks import TaskSpec, get_task


@interrupts.deferred()  # SIGTERM / Ctrl-C stop it before its next language (it starts again when resumed)
def evaluate_stage(ev: EvalStage, source: TrainStage | None, ctx: Context) -> None:
    started = time.perf_counter()
    directory = ctx.stage_dir(ev.hash)
    spec = get_task(ev.task)
    predict = _majority(ev, spec, ctx) if source is None else _model_predictor(ev, source, spec, ctx)
    rows: list[ScoreRow] = []
    for lang in ev.languages:
        if any_process(interrupts.requested()):
            interrupts.stop(f"during evaluation {ev.label} / {ev.intermediate} on {ev.task} (it starts again)")
        examples = spec.load(ev.split, lang, ctx.resources.data_dir)
        predictions = predict(examples, lang)
        if is_main():
            rows += _score(spec, lang, ev.split, examples, predictions, directory)
    carried = None if source is None else _carry(source, spec).policy("the evaluated stage")
    info = {
        "evaluation": f"{ev.task} {ev.split} on {len(ev.languages)} languages",
        "source": ev.source,
        "checkpoint": None if source is None else scored_checkpoint(ev, source, ctx),
        "carry_policy": carried,
        "wall_seconds": round(time.perf_counter() - started, 2),
        "threads": torch.get_num_threads(),
        "cpu_kernels": cpu_kernels(),
    }
    steps = 0 if source is None else stage_info(ctx.stage_dir(source.hash))["steps"]
    on_main(_finish, ev, rows, info, steps, ctx)


def _finish(ev: EvalStage, rows: list[ScoreRow], info: dict, steps: int, ctx: Context) -> None:
    directory = ctx.stage_dir(ev.hash)
    atomic_write_json(directory / ROWS, [row.model_dump() for row in rows])
    log_evaluation(ev, rows, steps, ctx)
    mark_complete(directory, info)


def scored_checkpoint(ev: EvalStage, source: TrainStage, ctx: Context) -> dict:
    """The checkpoint an evaluation scores: the source stage, the checkpoint's name, and the step it holds (the step
    its selection criterion chose, or the stage's last)."""
    trained = stage_info(ctx.stage_dir(source.hash))
    chosen = (trained.get("selection") or {}).get(criterion_of(ev.checkpoint))
    return {"stage": source.hash, "name": ev.checkpoint, "step": chosen["step"] if chosen else trained["steps"]}


def _carry(source: TrainStage, spec: TaskSpec) -> carry.Carry:
    return carry.into_evaluation(get_task(source.task).kind, spec.kind)


def _score(
    spec: TaskSpec, lang: str, split: str, examples: list[dict], predictions: list, directory: Path
) -> list[ScoreRow]:
    kind = get_kind(spec.kind)
    scored = kind.scored(examples)
    scores, golds = official_scores(spec, lang, examples, predictions)
    units = UNIT_SCORERS.get(spec.scorer, {}).get(spec.primary_metric)
    if units is not None:
        num, den = units(predictions, golds, lang)
        buffer = _npz(num=np.asarray(num, dtype=np.float64), den=np.asarray(den, dtype=np.float64))
        atomic_write_bytes(directory / UNITS / f"{split}-{lang}.npz", buffer)
    ids = [example["id"] for example in scored]
    write_predictions(
        directory / PREDICTIONS / spec.name / f"{split}-{lang}.{spec.submission_ext}",
        spec.submission,
        predictions,
        ids,
    )
    if kind.per_example:
        atomic_write_text(
            directory / EXAMPLES / spec.name / f"{split}-{lang}.jsonl", example_lines(scored, golds, predictions)
        )
    return [
        ScoreRow(
            eval_language=lang, split=split, metric=metric, value=scores[metric], primary=metric == spec.primary_metric
        )
        for metric in spec.metrics
        if metric in scores
    ]


def example_lines(scored: list[dict], golds: list, predictions: list) -> str:
    """`xlt.results.layout.EXAMPLES`: a JSON line per scored example with its id, its text (the example's string
    and string-list fields, the gold's own field left out), its gold and the prediction, for reading what a recipe
    gets wrong where."""
    lines = []
    for example, gold, prediction in zip(scored, golds, predictions, strict=True):
        text = {key: value for key, value in example.items() if key != "id" and _is_text(value) and value != gold}
        record = {"id": str(example["id"]), "text": text, "gold": gold, "prediction": prediction}
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(lines)


def _is_text(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _majority(ev: EvalStage, spec: TaskSpec, ctx: Context):
    labelled = spec.majority_task()
    train = []
    if labelled is not None:
        for lang in ev.train_languages:
            train += labelled.load("train", lang, ctx.resources.data_dir)
    kind = get_kind(spec.kind)
    return lambda examples, lang: kind.majority(train, examples, spec)


def _model_predictor(ev: EvalStage, source: TrainStage, spec: TaskSpec, ctx: Context):
    kind = get_kind(spec.kind)
    assert ev.head_options is not None  # the plan gives every model evaluation its head's options
    model = build_task_model(source.method, source.method_options, spec, ev.head_options, ctx.resources, source.seed)
    load_trainable(model, ctx.stage_dir(source.hash) / ev.checkpoint, prefix=_carry(source, spec).prefix)
    model.to(state().device).eval()
    max_length = min(ev.max_length, model.encoder.max_input_length)
    evaluator = Evaluator(model, spec, ev.batch_size, reuse_outputs=kind.reuse_outputs)

    def predict(examples: list[dict], lang: str) -> list:
        return evaluator.predict(
            examples, ctx.features(spec, kind, examples, ev.split, lang, max_length, model.encoder.token_types)
        )

    return predict


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub reads **arrays as allow_pickle: bool
    return buffer.getvalue()
