"""Run one training stage: resumable from its last checkpoint, deterministic for its seed.

Every batch and every dropout mask is a function of (seed, step), and the optimizer and scheduler
state are checkpointed with the trainable tensors, so a run killed at any moment and resumed ends
with the same weights as one that never stopped. Under several processes each draws its share of every
global batch and the main one writes (`xlt.runtime.distributed`); under FSDP the model is sharded across them, and
what is written is gathered whole first.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import torch
from accelerate import Accelerator

from xlt.data.mixing import MixtureSampler
from xlt.kinds import Kind, get_kind
from xlt.kinds.common import feature_length
from xlt.model import TaskModel, load_trainable, save_tensors
from xlt.pipeline.plan import carry
from xlt.pipeline.plan.graph import TrainStage
from xlt.pipeline.stage import trace
from xlt.pipeline.stage.build import build_task_model
from xlt.pipeline.stage.context import Context, stage_progress
from xlt.pipeline.stage.directory import mark_complete
from xlt.pipeline.stage.selection import Selector
from xlt.pipeline.stage.tracking import StageRun
from xlt.results.layout import CHECKPOINT, LOSSES, RESUME
from xlt.results.records import TrainRecord
from xlt.resume import load_point, save_point
from xlt.runtime import distributed, faults, interrupts
from xlt.runtime.distributed import any_process, check_batch_size, on_main, rank_world, trainable_tensors
from xlt.runtime.io import atomic_write_json
from xlt.runtime.machine import cpu_kernels
from xlt.tasks import get_task


@interrupts.deferred()  # SIGTERM / Ctrl-C stop it at a step boundary, never in the middle of a library's work
def train_stage(stage: TrainStage, ctx: Context) -> TaskModel:
    """Train (or resume) the stage and write its checkpoint; returns the trained model (under FSDP still sharded:
    `xlt.runtime.distributed.trainable_tensors` gathers them)."""
    started = time.perf_counter()
    directory = ctx.stage_dir(stage.hash)
    spec = get_task(stage.task)
    kind = get_kind(spec.kind)
    model = build_task_model(stage.method, stage.method_options, spec, stage.head_options, ctx.resources, stage.seed)
    if stage.parent is not None:
        load_trainable(model, ctx.stage_dir(stage.parent) / CHECKPOINT, prefix=carry.into_training().prefix)
    max_length = min(stage.training.max_length, model.encoder.max_input_length)
    token_types, data_dir = model.encoder.token_types, ctx.resources.data_dir
    untrained = stage.training.steps == 0  # the stage passes its encoder on as it arrived; no data needed
    features = (
        {}
        if untrained
        else {
            lang: ctx.features(spec, kind, spec.load("train", lang, data_dir), "train", lang, max_length, token_types)
            for lang in stage.languages
        }
    )
    options = stage.method_options
    n_examples = sum(len(f) for f in features.values())
    total = stage.training.total_steps(n_examples, options.steps_scale)
    rank, world = rank_world()
    check_batch_size(stage.training.batch_size, f"{stage.describe()}: training")
    lengths = {lang: [feature_length(f) for f in lang_features] for lang, lang_features in features.items()}
    sampler = (
        None if untrained else MixtureSampler(lengths, stage.temperature, stage.training.batch_size, total, stage.seed)
    )
    optimizer = optimizer_for(model, options)
    scheduler = linear_schedule(optimizer, round(options.warmup_ratio * total), total)
    selector = Selector(stage, ctx, max_length, token_types, directory) if stage.training.select and total else None
    point = load_point(directory / RESUME, model)  # its tensors go in before FSDP shards them
    probe = partial(_first_loss, model, kind, features, sampler) if sampler is not None and total else None
    accelerator = distributed.accelerator(ctx.mixed_precision, model, probe)  # its probe runs the model uncompiled
    if stage.training.compile:
        model.compile()  # in place: parameter names, checkpoints and unwrap_model stay as they are
    model, optimizer = accelerator.prepare(model, optimizer)
    step, losses, elapsed = _resume(point, model, optimizer, scheduler, selector)

    model.train()
    run = StageRun(stage, ctx)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if step < total and any_process(interrupts.requested()):  # told while the stage was set up: no step to save
        interrupts.stop(f"before step {step + 1} of {total} of {stage.describe()}")
    with stage_progress(ctx, stage.describe(), total, step, stage.training.batch_size, elapsed) as shown:
        while step < total:
            assert sampler is not None  # an untrained stage has no steps
            dropout_seed = (stage.seed * 1_000_003 + step) * world + rank  # dropout: the step and process alone
            torch.manual_seed(dropout_seed)
            drawn = sampler.batch(step, rank, world)
            trace.step(stage.hash, step, rank, dropout_seed, drawn)
            share = [features[lang][i] for lang, i in drawn]
            batch = {k: v.to(accelerator.device) for k, v in kind.collate(share).items()}
            with accelerator.autocast():
                loss = kind.loss(model(batch), batch)
            if world > 1:
                loss = loss * _share_weight(kind.loss_terms(share), accelerator)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            global_loss = accelerator.reduce(loss.detach(), "mean").item()  # the global batch's mean loss
            losses.append(round(global_loss, 6))
            step += 1
            shown.step(step, global_loss)
            if selector is not None and selector.due(step, total):
                selector.score(accelerator.unwrap_model(model), step)
            run.step(step, losses[-1], [float(lr) for lr in scheduler.get_last_lr()], selector)
            faults.point(f"step {step} of {stage.hash}")
            # SIGTERM / Ctrl-C: checkpoint, then stop at this boundary (every process, when any was told)
            stopping = any_process(interrupts.requested())
            if (step % stage.training.checkpoint_every == 0 or stopping) and step < total:
                on_main(
                    _checkpoint,
                    directory / RESUME,
                    trainable_tensors(accelerator.unwrap_model(model)),
                    distributed.optimizer_state(model, optimizer.optimizer),
                    scheduler,
                    step,
                    losses,
                    elapsed + time.perf_counter() - started,
                    selector,
                )
            if stopping and step < total:
                interrupts.stop(f"after step {step} of {total} of {stage.describe()} (checkpoint saved)")
        shown.end(losses[-1] if losses else None)

    run.finish()
    unwrapped = accelerator.unwrap_model(model)
    record = TrainRecord(
        stage=stage.describe(),
        hash=stage.hash,
        parent=stage.parent,
        steps=total,
        examples=n_examples,
        carry_policy=carry.into_training().policy("parent") if stage.parent is not None else None,
        parameters=unwrapped.count_parameters(),
        wall_seconds=round(elapsed + time.perf_counter() - started, 2),
        threads=torch.get_num_threads(),
        cpu_kernels=cpu_kernels(),
        final_loss=losses[-1] if losses else None,
        mixture={stage.task: sampler.drawn()} if sampler else None,
    )
    on_main(_finish, directory, ctx, trainable_tensors(unwrapped), losses, selector, record)
    return unwrapped


def linear_schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """transformers' get_linear_schedule_with_warmup, the same factor at every step: linear warm-up, then linear
    decay to 0. Not imported: transformers.optimization loads the Trainer's utilities (and PEFT), seconds in
    every process that trains (a cluster job's too)."""

    def factor(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _first_loss(
    model: TaskModel, kind: Kind, features: dict[str, list[dict]], sampler: MixtureSampler, device: torch.device
) -> torch.Tensor:
    """The loss of this process's share of the first global batch, in training mode: its autograd graph shows which
    trainable tensors a step uses (`xlt.runtime.distributed.accelerator`). Each step seeds its own dropout, so the masks
    drawn here change no step."""
    rank, world = rank_world()
    share = [features[lang][i] for lang, i in sampler.batch(0, rank, world)]
    batch = {k: v.to(device) for k, v in kind.collate(share).items()}
    return kind.loss(model.to(device).train()(batch), batch)


def _share_weight(terms: int, accelerator: Accelerator) -> float:
    """DDP and FSDP average the processes' gradients: weighed by its share of the global batch's loss terms
    (tokens, examples), each process's mean loss adds up to the global batch's mean, as in one process."""
    total = accelerator.reduce(torch.tensor(float(terms), device=accelerator.device), "sum").item()
    return accelerator.num_processes * terms / total


def _finish(
    directory: Path, ctx: Context, tensors: dict, losses: list, selector: Selector | None, record: TrainRecord
) -> None:
    save_tensors(tensors, directory / CHECKPOINT, {"stage": record.hash, "model": ctx.resources.identity})
    if selector is not None:  # the selected steps replace it
        record = record.model_copy(update={"selection": selector.finish(directory)})
    atomic_write_json(directory / LOSSES, losses)
    mark_complete(directory, record.model_dump(mode="json"))


def optimizer_for(model: TaskModel, options) -> torch.optim.Optimizer:
    """AdamW over the trainable tensors only (frozen ones get neither gradients nor state); the head at head_lr.
    Biases and LayerNorm tensors are not decayed, as in transformers' Trainer and XTREME's scripts."""
    norms = {id(p) for module in model.modules() if isinstance(module, torch.nn.LayerNorm) for p in module.parameters()}
    # (head, weight decay) -> tensors in model order: with weight_decay 0, two groups (rest, head) as resume points
    # written before biases and norms were spared hold them
    groups: dict[tuple[bool, float], list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            spared = id(parameter) in norms or name.endswith("bias")
            groups.setdefault((name.startswith("head."), 0.0 if spared else options.weight_decay), []).append(parameter)
    head_lr = options.head_lr or options.lr
    return torch.optim.AdamW(
        [
            {"params": params, "lr": head_lr if head else options.lr, "weight_decay": decay}
            for (head, decay), params in groups.items()
        ],
        fused=True,  # one kernel for all tensors: on a CPU too, where it measured 4x faster than the default loop
    )


def _checkpoint(
    directory: Path,
    tensors: dict,
    optimizer_state: dict,
    scheduler,
    step: int,
    losses: list,
    elapsed: float,
    selector: Selector | None,
) -> None:
    save_point(
        directory,
        tensors,
        {
            "optimizer": optimizer_state,
            "scheduler": scheduler.state_dict(),
            "step": step,
            "losses": losses,
            "elapsed": elapsed,
            "selection": selector.state() if selector else {},
        },
    )


def _resume(state: dict | None, model, optimizer, scheduler, selector: Selector | None) -> tuple[int, list, float]:
    """The rest of a resume point (its tensors are in the model already), once the model and optimizer are prepared:
    a sharded optimizer takes its slices of the saved state."""
    if state is None:
        return 0, [], 0.0
    distributed.load_optimizer_state(model, optimizer.optimizer, state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if selector is not None:
        selector.restore(state.get("selection", {}))
    return state["step"], state["losses"], state["elapsed"]
