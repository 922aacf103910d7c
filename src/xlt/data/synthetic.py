"""The embedded synthetic benchmark: four tasks and pretraining text in seven generated languages.

Nothing is shipped: `generate_benchmark(out_dir, seed)` writes everything from the grammar in
`synthetic_grammar`. Layout (one JSON object a line)::

    out_dir/settings.json  languages.json  lexicon.json  COMPLETED
    out_dir/text/{lang}.txt                     unlabelled pretraining text, one sentence a line
    out_dir/{task}/{split}-{lang}.jsonl         labelled examples in the task kind's dict shape

Every (purpose, split, language) file has its own random stream, so changing one size leaves the
other files as they were. Labelled sentences and pretraining text come from independent draws.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from functools import cache, partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from xlt.data.synthetic_grammar import BASE, LANGUAGES, NAMES, NUMERALS, Realiser, build_lexicons
from xlt.data.synthetic_tasks import GENERATORS, text_lines
from xlt.errors import XltError
from xlt.runtime.machine import usable_cores

VERSION = 1  # bump when the grammar or a task generator changes what a seed produces
SPLITS = ("train", "dev", "test")
NON_BASE = tuple(lang for lang in LANGUAGES if lang != BASE)
ANCHORS = frozenset(NAMES) | frozenset(NUMERALS) | {".", ",", "?"}
COMPLETED = "COMPLETED"
PARALLEL_FROM = 5000  # pretraining sentences a language from which writing in several processes pays for starting them
SYNTAX = ("order", "adjective", "adposition", "morphology")  # the properties of LANGUAGES that are syntax


class BenchmarkSizes(BaseModel):
    """Items per language: labelled items per split and task, unlabelled pretraining sentences."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    train: int = 5000
    dev: int = 300
    test: int = 500  # 500 NLI items give about +-0.02 per accuracy: enough to see a 0.05 difference
    pretrain: int = 40000


def language_properties() -> dict[str, dict[str, str]]:
    """What each synthetic language changes relative to the base language ("base")."""
    return {lang: dict(props) for lang, props in LANGUAGES.items()}


def syntactic_distance(a: str, b: str) -> float:
    """The share of the syntactic properties (word order, adjective and adposition placement, morphology) in which
    two benchmark languages differ: 0 for a vocabulary or script change alone."""
    differing = [name for name in SYNTAX if LANGUAGES[a][name] != LANGUAGES[b][name]]
    return len(differing) / len(SYNTAX)


def task_languages(task: str) -> tuple[str, ...]:
    """Retrieval pairs each language with the base one, so it has no base-language test."""
    return NON_BASE if task == "synth-retrieval" else tuple(LANGUAGES)


def generate_benchmark(out_dir: str | Path, seed: int = 0, sizes: BenchmarkSizes | None = None) -> Path:
    """Write the benchmark atomically; a complete one with the same settings is left as it is."""
    out = Path(out_dir)
    settings: dict[str, Any] = {"version": VERSION, "seed": seed, "sizes": (sizes or BenchmarkSizes()).model_dump()}
    if _completed_settings(out) == settings:
        return out
    if out.exists() and any(out.iterdir()) and not (out / "settings.json").exists():
        raise XltError(f"{out} exists and is not a synthetic benchmark: choose another directory or empty it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        _write_all(tmp, seed, BenchmarkSizes(**settings["sizes"]))
        (tmp / "settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True))
        (tmp / COMPLETED).write_text("")
        if out.exists():
            shutil.rmtree(out)  # a stale or different synthetic benchmark (it has our settings.json)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def _completed_settings(out: Path) -> dict | None:
    if not (out / COMPLETED).exists():
        return None
    return json.loads((out / "settings.json").read_text())


def _write_all(root: Path, seed: int, sizes: BenchmarkSizes) -> None:
    (root / "languages.json").write_text(json.dumps(language_properties(), indent=2, ensure_ascii=False))
    (root / "lexicon.json").write_text(json.dumps(build_lexicons(seed), indent=2, ensure_ascii=False, sort_keys=True))
    for folder in ("text", *GENERATORS):
        (root / folder).mkdir()
    units = [("text", "pretrain", lang) for lang in LANGUAGES]
    units += [(task, split, lang) for task in GENERATORS for split in SPLITS for lang in task_languages(task)]
    write = partial(_write_unit, root, seed, sizes)
    workers = min(usable_cores(), 8)
    if workers == 1 or sizes.pretrain < PARALLEL_FROM:
        list(map(write, units))
        return
    # The grammar is pure Python (a minute for the default sizes on one core); each file has its own random
    # stream, so the files are the same whichever process writes them. Spawned: no forked torch threads.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(write, units))


@cache
def _realisers(seed: int) -> dict[str, Realiser]:
    lexicons = build_lexicons(seed)
    return {lang: Realiser(lang, lexicons[lang]) for lang in LANGUAGES}


def _write_unit(root: Path, seed: int, sizes: BenchmarkSizes, unit: tuple[str, str, str]) -> None:
    """One file: a language's pretraining text, or one (task, split, language)."""
    task, split, lang = unit
    if task == "text":
        lines = text_lines(random.Random(f"{seed}-text-{lang}"), _realisers(seed)[lang], sizes.pretrain)
        (root / "text" / f"{lang}.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return
    examples = GENERATORS[task](random.Random(f"{seed}-{task}-{split}-{lang}"), _realisers(seed), lang,
                                getattr(sizes, split))  # fmt: skip
    for i, example in enumerate(examples):
        example["id"] = f"{lang}-{split}-{i}"
    _write_jsonl(root / task / f"{split}-{lang}.jsonl", examples)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def benchmark_root(data_dir: str | Path | None, task: str) -> Path:
    """The generated benchmark directory: `data_dir` itself or its `synthetic/` folder."""
    if data_dir is None:
        raise XltError(
            f"task {task!r} reads a generated benchmark: pass its directory as data_dir "
            "(write one with xlt.data.synthetic.generate_benchmark)"
        )
    for root in (Path(data_dir), Path(data_dir) / "synthetic"):
        if (root / COMPLETED).exists():
            return root
    raise XltError(
        f"{data_dir}: no complete synthetic benchmark (no {COMPLETED} marker); "
        "generate one with xlt.data.synthetic.generate_benchmark"
    )


def load_examples(task: str, split: str, lang: str, data_dir: str | Path | None) -> list[dict]:
    path = benchmark_root(data_dir, task) / task / f"{split}-{lang}.jsonl"
    if not path.exists():
        known = ", ".join(task_languages(task))
        raise XltError(f"{path} is missing: {task} has splits {', '.join(SPLITS)} in languages {known}")
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def pretraining_files(data_dir: str | Path) -> list[Path]:
    """One unlabelled text file per language (one sentence a line), base language first."""
    root = benchmark_root(data_dir, "pretraining")
    return [root / "text" / f"{lang}.txt" for lang in LANGUAGES]


def load_lexicons(data_dir: str | Path) -> dict[str, dict[str, str]]:
    """concept -> word per language, for word-translation probes of an encoder's alignment."""
    return json.loads((benchmark_root(data_dir, "lexicon") / "lexicon.json").read_text(encoding="utf-8"))
