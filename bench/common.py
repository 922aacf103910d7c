"""What the training, evaluation, memory and FLOP benchmarks share: the device, an XLM-R-shaped encoder with
random weights (and a tokenizer trained on the benchmark's own text), xlt's stages on it, the transformers
`Trainer` baselines on the same features, repeated paired timing, and the printed table and figures.

Every script runs all its contenders in one process, on the same threads, after a warm-up, and reports the
median of each contender's times and the median of the per-repetition ratios (pairs taken within one
repetition, so a machine whose speed drifts does not bias a ratio).
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from baselines import CLOCK, clock
from xlt.config import validate_study
from xlt.pipeline.plan.graph import study_plan
from xlt.pipeline.plan.resources import resolve
from xlt.pipeline.run.runner import with_precision
from xlt.pipeline.stage.context import Context, Reporting
from xlt.results.layout import StudyLayout
from xlt.runtime.machine import cpu_kernels

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared/data from the repository root
SHAPES = {  # XLM-R shaped: layers, hidden, heads, feed-forward
    "small": (4, 256, 4, 1024),  # the measured encoder
    "base": (12, 768, 12, 3072),  # XLM-R base (its 250,002-piece vocabulary is set by the caller)
}


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    return f"CPU ({cpu}), {torch.get_num_threads()} threads, {cpu_kernels()} kernels"


def data_dir() -> Path:
    if not (SHARED_DATA / "udpos").is_dir():
        raise SystemExit(f"{SHARED_DATA / 'udpos'} is missing: the benchmarks read UD-POS from ../shared/data")
    return SHARED_DATA


def make_encoder(out: Path, texts: list[str], shape: str = "small", vocab_size: int = 8000, seed: int = 0) -> Path:
    """A random XLM-R-shaped `XLMRobertaModel` and a BPE tokenizer trained on `texts`, saved as a model dir."""
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from xlt.data.tokenizer import train_tokenizer

    layers, hidden, heads, ffn = SHAPES[shape]
    tokenizer = train_tokenizer(texts, vocab_size, "bpe")
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    XLMRobertaModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def multilingual_text() -> list[str]:
    """English UD-POS training sentences and Tatoeba's sentences in 112 languages: text for a multilingual
    tokenizer, as XLM-R's is (one trained on English alone splits other scripts into single characters)."""
    tatoeba = sorted((SHARED_DATA / "tatoeba").glob("tatoeba.*-eng.*"))
    return udpos_words() + [line for path in tatoeba if path.suffix != ".eng" for line in path.read_text().splitlines()]


def udpos_words(split: str = "train", lang: str = "en") -> list[str]:
    from xlt.tasks import get_task

    return [" ".join(example["tokens"]) for example in get_task("udpos").load(split, lang, data_dir())]


class XltRun:
    """xlt's own stages for one target task on a local encoder and data directory: `train()` runs the target's
    training stage in a fresh study directory (the feature cache stays warm across calls)."""

    def __init__(
        self,
        work: Path,
        model: Path,
        data: Path,
        task: str,
        method: str,
        options: dict,
        training: dict,
        eval_languages: list[str] | str = "all",
    ):
        raw = {
            "name": "bench",
            "model": {"name_or_path": str(model)},
            "data": {"dir": str(data)},
            "benchmark": "xtreme",
            "methods": [{"name": method, "options": options}],
            "references": [],
            "targets": [
                {"task": task, "train_languages": ["en"], "eval_languages": eval_languages, "training": training}
            ],
            "output_dir": str(work / "study"),
        }
        self.study = with_precision(validate_study(raw, "bench"))
        self.work = work
        os.environ["XLT_CACHE"] = str(work / "cache")
        self.resources = resolve(self.study, progress=False)
        self.precision = self.study.mixed_precision
        self.plan = study_plan(self.study, self.resources)
        self.runs = 0

    def context(self, fresh: bool = True) -> Context:
        if fresh:
            self.runs += 1
        out = self.work / f"run{self.runs}"
        return Context(StudyLayout(out), self.resources, self.work / "cache", self.precision, Reporting(progress=False))

    @property
    def stage(self):
        return list(self.plan.train.values())[-1]

    def train(self):
        from xlt.pipeline.stage.train import train_stage

        return train_stage(self.stage, self.context())


STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f} s] {message}", flush=True)


class Seconds(float):
    """A contender's own count of its seconds: a child process times itself (by `baselines.clock`)."""


def timed(run: Callable[[], object]) -> float:
    started = clock()
    result = run()
    return float(result) if isinstance(result, Seconds) else clock() - started


def compare(contenders: dict[str, Callable[[], object]], repeats: int, warmup: dict[str, Callable[[], object]]):
    """Each contender's times over `repeats` rounds (every round runs all of them, in turn), after one warm-up
    run of each (`warmup`: a cheaper call doing the same work, or the contender itself)."""
    for name, run in warmup.items():
        log(f"warm-up: {name}")
        run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(repeats):
        for name, run in contenders.items():
            times[name].append(timed(run))
            log(f"round {round_ + 1}/{repeats}: {name} {times[name][-1]:.2f} s")
    return times


def ratio(times: dict[str, list[float]], slower: str, faster: str) -> float:
    """Median over rounds of time(slower) / time(faster), paired within each round."""
    return statistics.median(a / b for a, b in zip(times[slower], times[faster]))


def report(title: str, times: dict[str, list[float]], figures: dict[str, float], notes: list[str]) -> None:
    print(f"\n{title}\n{device_name()}, torch {torch.__version__}")
    width = max(map(len, times))
    print(f"{CLOCK}; the machine's load average {os.getloadavg()[0]:.1f}")
    print(f"{'contender':<{width}}  median s  min s   max s   rounds")
    for name, values in times.items():
        print(
            f"{name:<{width}}  {statistics.median(values):8.2f}  {min(values):6.2f}  {max(values):6.2f}  {len(values)}"
        )
    for note in notes:
        print(note)
    print(" ".join(f"{key}={value:.3f}" for key, value in figures.items()))


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"xlt-bench-{prefix}-"))
