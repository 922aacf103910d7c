"""Masked-LM pretraining of a small XLM-R-shaped encoder on UTF-8 text files (one language a file).

A tokenizer is trained on the text, each language's sentences are packed into fixed-length blocks,
and every batch draws its languages by temperature sampling (XLM-R: q_l proportional to n_l^(1/T)).
The budget is a number of steps, so the same options give the same weights. A run can be stopped and
resumed: every `checkpoint_every` steps, and at the step a SIGTERM or Ctrl-C arrives (`xlt.runtime.interrupts`),
it writes a resume point (`xlt.resume`: the weights, optimizer, scheduler, the batch generator's
and torch's random states, the losses) in the output's work directory `.{name}.work/`; the same call then
resumes from it and ends with the weights of a run that never stopped. The encoder is written in the work
directory and renamed into place, so the output exists only complete. It loads with
`AutoModelForMaskedLM`, `AutoModel` and `AutoTokenizer.from_pretrained`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

from xlt.data.text_files import TextFiles, language_files, read_text_files
from xlt.data.tokenizer import train_tokenizer
from xlt.errors import XltError
from xlt.model import load_trainable
from xlt.resume import read_point, save_point
from xlt.runtime import faults, interrupts
from xlt.runtime.display import LoopProgress
from xlt.runtime.io import file_digest, make_dirs, stable_hash

OPTIONS_FILE = "pretrain_options.json"
RESUME = "resume"  # the work directory's folder of resume points


class PretrainOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vocab_size: int = 2000
    tokenizer: Literal["bpe", "unigram"] = "bpe"  # see xlt.data.tokenizer.train_tokenizer
    hidden_size: int = 64
    layers: int = 4
    heads: int = 4
    ffn: int = 256
    max_length: int = 64  # tokens per pretraining block, <s> and </s> included
    max_positions: int = 256  # position embeddings, so fine-tuning may use longer inputs
    mask_rate: float = 0.4  # of these, 80% <mask>, 10% a random token, 10% unchanged
    # dropout in pretraining and in the saved config (so fine-tuning uses it too): hidden states, and attention
    # probabilities
    dropout: float = Field(default=0.1, ge=0, lt=1)
    attention_dropout: float = Field(default=0.1, ge=0, lt=1)
    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.98)
    weight_decay: float = 0.01
    warmup_steps: int = 200  # linear warm-up, then constant
    batch_size: int = 64
    max_steps: int = 2300
    temperature: float = 3.3  # language sampling: 1 follows the data sizes, larger flattens them
    log_every: int = 10
    seed: int = 0
    checkpoint_every: int = Field(default=200, gt=0)  # steps between resume points (they change nothing in the weights)

    def weights_options(self) -> dict:
        """The options that determine the weights (all but `checkpoint_every`): what names the encoder."""
        return self.model_dump(mode="json", exclude={"checkpoint_every"})


def token_ids(tokenizer, lines: list[str]) -> list[list[int]]:
    """The lines' token ids, no specials, from the Rust tokenizer itself: calling the transformers wrapper builds
    a `BatchEncoding` of every field, 5 times slower on the demo's 40,000 lines a language (the same ids)."""
    return [encoding.ids for encoding in tokenizer.backend_tokenizer.encode_batch(lines, add_special_tokens=False)]


def pack_blocks(ids: list[list[int]], length: int, bos: int, eos: int, pad: int) -> torch.Tensor:
    """Whole sentences packed greedily into `<s> s1 </s> s2 </s> ... <pad>` rows of `length` tokens.

    Every row starts at a sentence start, as fine-tuning inputs do: cutting the stream at arbitrary
    points left the loss on a plateau with no cross-lingual alignment within the step budget."""
    rows, row = [], [bos]
    for sentence in ids:
        sentence = sentence[: length - 2] + [eos]
        if len(row) + len(sentence) > length:
            rows.append(row + [pad] * (length - len(row)))
            row = [bos]
        row += sentence
    rows.append(row + [pad] * (length - len(row)))
    return torch.tensor(rows, dtype=torch.long)


def mask_tokens(
    ids: torch.Tensor, options: PretrainOptions, mask_id: int, special_max: int, vocab: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking at `mask_rate`; labels are -100 except on masked positions (the loss sees only those)."""
    maskable = ids > special_max  # the five specials have the lowest ids
    chosen = (torch.rand(ids.shape, generator=gen) < options.mask_rate) & maskable
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    action = torch.rand(ids.shape, generator=gen)
    inputs = ids.clone()
    inputs[chosen & (action < 0.8)] = mask_id
    randomised = chosen & (action >= 0.8) & (action < 0.9)
    inputs[randomised] = torch.randint(special_max + 1, vocab, ids.shape, generator=gen)[randomised]
    return inputs, labels


def language_weights(sizes: dict[str, int], temperature: float) -> torch.Tensor:
    counts = torch.tensor([float(n) for n in sizes.values()])
    weights = (counts / counts.sum()) ** (1.0 / temperature)
    return weights / weights.sum()


def build_model(options: PretrainOptions, tokenizer) -> XLMRobertaForMaskedLM:
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=options.hidden_size,
        num_hidden_layers=options.layers,
        num_attention_heads=options.heads,
        intermediate_size=options.ffn,
        max_position_embeddings=max(options.max_positions, options.max_length) + 2,  # RoBERTa offsets by pad+1
        type_vocab_size=1,
        hidden_dropout_prob=options.dropout,
        attention_probs_dropout_prob=options.attention_dropout,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return XLMRobertaForMaskedLM(config)


def pretrain(
    text_files: TextFiles, out_dir: str | Path, options: PretrainOptions | None = None, progress: bool = True
) -> Path:
    """Train a tokenizer and a masked-LM encoder on the files (paths, LANG=PATH, or {lang: path}: see
    `xlt.data.text_files`); returns `out_dir` (must not exist yet). Stopped or killed, the same call resumes."""
    options = options or PretrainOptions()
    out = Path(out_dir)
    if out.exists():
        raise XltError(f"{out} already exists; choose another output directory or delete it")
    files = language_files(text_files)
    texts = read_text_files(files)
    torch.manual_seed(options.seed)
    tokenizer = train_tokenizer(
        (line for lines in texts.values() for line in lines), options.vocab_size, options.tokenizer
    )
    blocks = [
        pack_blocks(token_ids(tokenizer, lines), options.max_length, tokenizer.bos_token_id, tokenizer.eos_token_id,
                    tokenizer.pad_token_id)
        for lines in texts.values()
    ]  # fmt: skip
    model = build_model(options, tokenizer)
    # what a resume point must have been written for: these options on these files
    run = stable_hash({"options": options.weights_options(), "text": {k: file_digest(v) for k, v in files.items()}})
    losses = _train(model, blocks, language_weights({k: len(v) for k, v in texts.items()}, options.temperature),
                    options, tokenizer, progress, work_dir(out) / RESUME, run)  # fmt: skip
    meta = {
        "options": options.weights_options(),
        "languages": list(texts),
        "files": {lang: str(path) for lang, path in files.items()},
    }  # which file gave which language
    _publish(out, model, tokenizer, loss_curve(losses, options.log_every), meta)
    return out


def work_dir(out: Path) -> Path:
    """Where pretraining into `out` keeps its resume points and writes the encoder before renaming it to `out`."""
    return out.with_name(f".{out.name}.work")


def _publish(out: Path, model, tokenizer, curve: list[tuple[int, float]], meta: dict) -> None:
    """The encoder written beside the resume points, then renamed to `out` (which appears complete or not at all);
    the work directory goes last."""
    staging = work_dir(out) / "encoder"
    shutil.rmtree(staging, ignore_errors=True)  # a run killed while writing it left it
    make_dirs(staging)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    _write_losses(staging, curve)
    (staging / OPTIONS_FILE).write_text(json.dumps(meta, indent=2))
    os.replace(staging, out)
    shutil.rmtree(work_dir(out))


def sample_batch(blocks: list[torch.Tensor], weights: torch.Tensor, size: int, gen: torch.Generator) -> torch.Tensor:
    """`size` blocks: each draws its language by `weights`, then a block of that language uniformly."""
    langs = torch.multinomial(weights, size, replacement=True, generator=gen).tolist()
    rows = [torch.randint(len(blocks[lang]), (1,), generator=gen) for lang in langs]
    return torch.stack([blocks[lang][row][0] for lang, row in zip(langs, rows)])


def _train(
    model, blocks, weights, options: PretrainOptions, tokenizer, progress: bool, resume: Path, run: str
) -> list[float]:
    """The loss of every step, from the resume point in `resume` if there is one of this `run`."""
    gen = torch.Generator().manual_seed(options.seed)
    # one fused kernel for every tensor's update: 11% of a step on 2 CPU cores at the demo's size
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.lr, betas=options.betas,
                                  weight_decay=options.weight_decay, fused=True)  # fmt: skip
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / options.warmup_steps))
    total = options.max_steps
    losses = _resume(resume, run, total, model, optimizer, schedule, gen)
    special_max = max(tokenizer.all_special_ids)
    model.train()
    with _progress(options, len(blocks), len(losses), progress) as shown, interrupts.deferred():
        for step in range(len(losses) + 1, total + 1):
            ids = sample_batch(blocks, weights, options.batch_size, gen)
            inputs, labels = mask_tokens(ids, options, tokenizer.mask_token_id, special_max, len(tokenizer), gen)
            loss = masked_lm_loss(model, inputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            shown.step(step, _window_mean(losses, options.log_every))
            faults.point(f"pretraining step {step}")
            # SIGTERM / Ctrl-C: a resume point, then stop at this step
            stopping = interrupts.requested()
            if (step % options.checkpoint_every == 0 or stopping) and step < total:
                _checkpoint(resume, run, model, optimizer, schedule, gen, losses)
            if stopping and step < total:
                interrupts.stop(f"after step {step} of {total} of pretraining (checkpoint saved)")
        shown.end(_window_mean(losses, options.log_every) if losses else None)
    model.eval()
    return losses


@contextmanager
def _progress(options: PretrainOptions, languages: int, done: int, enabled: bool) -> Iterator[LoopProgress]:
    """The progress display: a bar on a terminal, timestamped lines off one (`LoopProgress`)."""
    columns = (TextColumn("pretraining"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TimeRemainingColumn())  # fmt: skip
    console = Console(stderr=True)
    with Progress(*columns, console=console, disable=not (enabled and console.is_terminal), transient=False) as bar:
        task = bar.add_task("pretrain", total=options.max_steps, completed=done, loss="-")
        shown = LoopProgress(
            "pretraining", options.max_steps, done, options.batch_size, console, enabled,
            bar=lambda step, loss: bar.update(task, completed=step, loss=f"{loss:.3f}"),
        )  # fmt: skip
        shown.begin(f"{options.layers} layers, hidden size {options.hidden_size}, {languages} languages, "
                    f"{options.max_steps} steps of {options.batch_size} blocks, seed {options.seed}")  # fmt: skip
        yield shown


def _checkpoint(resume: Path, run: str, model, optimizer, schedule, gen: torch.Generator, losses: list) -> None:
    tensors = {name: parameter.detach() for name, parameter in model.named_parameters()}  # tied ones once
    state = {
        "step": len(losses),
        "losses": losses,
        "optimizer": optimizer.state_dict(),
        "scheduler": schedule.state_dict(),
        "generator": gen.get_state(),  # batches and masks
        "torch_rng": torch.get_rng_state(),  # dropout (the weights' initialisation drew from it before)
        "run": run,
    }
    save_point(resume, tensors, state)


def _resume(resume: Path, run: str, total: int, model, optimizer, schedule, gen: torch.Generator) -> list[float]:
    """The losses of the steps done, every state restored from the resume point; [] with none."""
    state = read_point(resume, what="pretraining")
    if state is None:
        return []
    if state.get("run") != run:
        raise XltError(
            f"{resume.parent} holds an unfinished pretraining of other options or text files; run the command"
            f" that started it to finish it, or delete {resume.parent} to start this one"
        )
    load_trainable(model, resume / state["tensors"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["scheduler"])
    gen.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    return state["losses"]


def masked_lm_loss(model: XLMRobertaForMaskedLM, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on the masked positions only; the vocabulary projection runs on those alone,
    which saves most of its cost at 40% masking."""
    pad = model.config.pad_token_id
    assert pad is not None  # the model is built with its tokenizer's pad id
    hidden = model.roberta(input_ids=inputs, attention_mask=(inputs != pad).long())
    chosen = labels != -100
    logits = model.lm_head(hidden.last_hidden_state[chosen])
    return torch.nn.functional.cross_entropy(logits, labels[chosen])


def loss_curve(losses: list[float], every: int) -> list[tuple[int, float]]:
    """(step, mean loss since the previous entry) every `every` steps and at the last step."""
    steps = [step for step in range(1, len(losses) + 1) if step % every == 0 or step == len(losses)]
    return [(step, _window_mean(losses[:step], every)) for step in steps]


def _window_mean(losses: list[float], every: int) -> float:
    """The mean loss of the steps since the last multiple of `every`."""
    n = len(losses) % every or every
    return sum(losses[-n:]) / n


def _write_losses(directory: Path, losses: list[tuple[int, float]]) -> None:
    (directory / "loss.csv").write_text("step,loss\n" + "".join(f"{s},{loss:.5f}\n" for s, loss in losses))
    (directory / "loss.json").write_text(json.dumps([{"step": s, "loss": loss} for s, loss in losses]))
