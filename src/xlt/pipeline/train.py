"""Run one training stage: resumable from its last checkpoint, deterministic for its seed.

Every batch and every dropout mask is a function of (seed, step), and the optimizer and scheduler
state are checkpointed with the trainable tensors, so a run killed at any moment and resumed ends
with the same weights as one that never stopped.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from accelerate import Accelerator
from rich.markup import escape
from transformers import get_linear_schedule_with_warmup

from xlt import faults, interrupts
from xlt.data.mixing import MixtureSampler
from xlt.io import atomic_write_json
from xlt.kinds import get_kind
from xlt.model import TaskModel, load_trainable, save_trainable
from xlt.pipeline import carry
from xlt.pipeline.build import build_task_model
from xlt.pipeline.plan import CHECKPOINT, TrainStage
from xlt.pipeline.progress import stage_bar
from xlt.pipeline.resume import load_point, save_point
from xlt.pipeline.selection import Selector
from xlt.pipeline.stages import RESUME, Context, mark_complete
from xlt.pipeline.tracking import StageRun
from xlt.results import TrainRecord
from xlt.tasks import get_task


def train_stage(stage: TrainStage, ctx: Context) -> None:
    started = time.perf_counter()
    directory = ctx.stage_dir(stage.hash)
    spec = get_task(stage.task)
    kind = get_kind(spec.kind)
    model = build_task_model(stage.method, stage.method_options, spec, stage.head_options, ctx.resources, stage.seed)
    if stage.parent is not None:
        load_trainable(model, ctx.stage_dir(stage.parent) / "checkpoint", prefix=carry.into_training().prefix)
    max_length = min(stage.training.max_length, model.encoder.max_input_length)
    untrained = stage.training.steps == 0  # the stage passes its encoder on as it arrived; no data needed
    features = (
        {}
        if untrained
        else {
            lang: ctx.features(spec, kind, spec.load("train", lang, ctx.resources.data_dir), "train", lang, max_length)
            for lang in stage.languages
        }
    )
    options = stage.method_options
    n_examples = sum(len(f) for f in features.values())
    total = stage.training.total_steps(n_examples, options.steps_scale)
    sampler = (
        None
        if untrained
        else MixtureSampler(
            {k: len(v) for k, v in features.items()}, stage.temperature, stage.training.batch_size, total, stage.seed
        )
    )
    optimizer = _optimizer(model, options)
    scheduler = get_linear_schedule_with_warmup(optimizer, round(options.warmup_ratio * total), total)
    selector = Selector(stage, ctx, max_length, directory) if stage.training.select and total else None
    step, losses, elapsed = _resume(directory / RESUME, model, optimizer, scheduler, selector)
    accelerator = Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=ctx.mixed_precision)
    model, optimizer = accelerator.prepare(model, optimizer)

    model.train()
    run = StageRun(stage, ctx)
    trainable = [p for p in model.parameters() if p.requires_grad]
    name = escape(stage.describe())  # its "[en]" is text, not rich markup
    with stage_bar(ctx, name, total, step) as (progress, bar), interrupts.deferred():
        while step < total:
            assert sampler is not None  # an untrained stage has no steps
            torch.manual_seed(stage.seed * 1_000_003 + step)  # dropout depends on the step alone
            batch = kind.collate([features[lang][i] for lang, i in sampler.batch(step)])
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            with accelerator.autocast():
                loss = kind.loss(model(batch), batch)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(round(loss.item(), 6))
            step += 1
            progress.update(bar, advance=1, description=f"{name}  loss {loss.item():.4f}")
            if selector is not None and selector.due(step, total):
                selector.score(accelerator.unwrap_model(model), step)
            run.step(step, losses[-1], scheduler.get_last_lr(), selector)
            faults.point(f"step {step} of {stage.hash}")
            stopping = interrupts.requested()  # SIGTERM / Ctrl-C: checkpoint, then stop at this boundary
            if (step % stage.training.checkpoint_every == 0 or stopping) and step < total:
                _checkpoint(
                    directory / RESUME,
                    accelerator.unwrap_model(model),
                    optimizer,
                    scheduler,
                    step,
                    losses,
                    elapsed + time.perf_counter() - started,
                    selector,
                )
            if stopping and step < total:
                interrupts.stop_if_requested(f"after step {step} of {total} of {stage.describe()} (checkpoint saved)")

    run.finish()
    unwrapped = accelerator.unwrap_model(model)
    save_trainable(unwrapped, directory / CHECKPOINT, {"stage": stage.hash, "model": ctx.resources.identity})
    selection = selector.finish(directory) if selector is not None else None  # the selected steps replace it
    atomic_write_json(directory / "loss.json", losses)
    mark_complete(
        directory,
        TrainRecord(
            stage=stage.describe(),
            hash=stage.hash,
            parent=stage.parent,
            steps=total,
            examples=n_examples,
            carry_policy=carry.into_training().policy("parent") if stage.parent is not None else None,
            parameters=unwrapped.count_parameters(),
            wall_seconds=round(elapsed + time.perf_counter() - started, 2),
            final_loss=losses[-1] if losses else None,
            mixture={stage.task: sampler.drawn()} if sampler else None,
            selection=selection,
        ).model_dump(mode="json"),
    )


def _optimizer(model: TaskModel, options) -> torch.optim.Optimizer:
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("head.")]
    rest = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    groups = [{"params": rest, "lr": options.lr}, {"params": head, "lr": options.head_lr or options.lr}]
    return torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=options.weight_decay)


def _checkpoint(
    directory: Path, model, optimizer, scheduler, step: int, losses: list, elapsed: float, selector: Selector | None
) -> None:
    save_point(
        directory,
        model,
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "losses": losses,
            "elapsed": elapsed,
            "selection": selector.state() if selector else {},
        },
    )


def _resume(directory: Path, model, optimizer, scheduler, selector: Selector | None) -> tuple[int, list, float]:
    state = load_point(directory, model)
    if state is None:
        return 0, [], 0.0
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if selector is not None:
        selector.restore(state.get("selection", {}))
    return state["step"], state["losses"], state["elapsed"]
