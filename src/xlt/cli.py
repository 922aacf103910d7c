"""The `xlt` command: one call into the library per command; errors become one line and exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

import xlt
from xlt.errors import XltError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Cross-lingual transfer studies: what does a training recipe do to zero-shot transfer?")
console = Console(stderr=True)
DEMO_CONFIG = Path(__file__).parent / "configs" / "demo.yaml"
# `xlt demo --quick`: the same grid with tiny budgets (mechanics only, for tests and a first look).
QUICK = [
    "name=demo-quick",
    "data.synthetic.sizes={train: 300, dev: 60, test: 100, pretrain: 2000}",
    "model.pretrain.options.max_steps=40",
    "intermediate.monolingual.training.steps=8",
    "intermediate.multilingual.training.steps=8",
    "targets.synth-nli.training.steps=8",
    "targets.synth-pos.training.steps=8",
    "methods.deep_prompt.options.steps_scale=1",
]


# --- cluster backend options, shared by `run` and `demo` (xlt.pipeline.slurm.SlurmOptions) ---
Backend = Annotated[str, typer.Option("--backend", help="local: run every stage here; slurm: one Slurm job per"
                                                        " stage (through submitit), returns at once.")]
Partition = Annotated[Optional[str], typer.Option("--partition", help="Slurm partition (default: the cluster's).")]
GpusPerJob = Annotated[Optional[int], typer.Option("--gpus-per-job", min=0, help="GPUs per Slurm job (default 0).")]
CpusPerJob = Annotated[Optional[int], typer.Option("--cpus-per-job", min=1, help="CPUs per Slurm job (default 1).")]
JobTime = Annotated[Optional[str], typer.Option("--time", help="Time limit per Slurm job, sbatch's --time format"
                                                               " (default 4:00:00; requeued and resumed past it).")]
ArrayParallelism = Annotated[Optional[int], typer.Option("--array-parallelism", min=1,
                                                         help="Jobs of one Slurm job array running at once (32).")]
RetryFailed = Annotated[bool, typer.Option("--retry-failed", help="Resubmit failed stages (and what waits on them).")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xlt {xlt.__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """xlt compares recipes (methods x intermediate tasks) on zero-shot transfer to every language."""


@app.command()
def run(
    config: Path = typer.Argument(..., help="Study YAML (see configs/demo.yaml and the README's config reference)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Study directory (overrides output_dir)."),
    set_: list[str] = typer.Option([], "--set", help="Override a field: --set methods.finetune.options.lr=3e-5"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (stages, sharing, status) and stop."),
    backend: Backend = "local", partition: Partition = None, gpus_per_job: GpusPerJob = None,
    cpus_per_job: CpusPerJob = None, time: JobTime = None, array_parallelism: ArrayParallelism = None,
    retry_failed: RetryFailed = False,
) -> None:
    """Run a study from a YAML file: train what is not complete, evaluate, write results and a report."""
    slurm = _slurm_options(backend, partition, gpus_per_job, cpus_per_job, time, array_parallelism, retry_failed)
    _run(config, out, set_, dry_run, slurm)


@app.command()
def demo(
    quick: bool = typer.Option(False, "--quick", help="Tiny budgets: the whole grid in under a minute."),
    out: Optional[Path] = typer.Option(None, "--out", help="Study directory (default runs/demo or runs/demo-quick)."),
    set_: list[str] = typer.Option([], "--set", help="Override a field of configs/demo.yaml."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and stop."),
    backend: Backend = "local", partition: Partition = None, gpus_per_job: GpusPerJob = None,
    cpus_per_job: CpusPerJob = None, time: JobTime = None, array_parallelism: ArrayParallelism = None,
    retry_failed: RetryFailed = False,
) -> None:
    """The built-in study on the embedded synthetic benchmark (pretrains a small encoder once, cached)."""
    slurm = _slurm_options(backend, partition, gpus_per_job, cpus_per_job, time, array_parallelism, retry_failed)
    overrides = (QUICK if quick else []) + list(set_)
    if out is None:
        out = Path("runs") / ("demo-quick" if quick else "demo")
    _run(DEMO_CONFIG, out, overrides, dry_run, slurm)


def _slurm_options(backend: str, partition, gpus_per_job, cpus_per_job, time, array_parallelism, retry_failed):
    """The Slurm backend's options (unset ones take SlurmOptions' defaults), or None for the local backend."""
    given = {name: value for name, value in dict(
        partition=partition, gpus_per_job=gpus_per_job, cpus_per_job=cpus_per_job, time=time,
        array_parallelism=array_parallelism, retry_failed=retry_failed or None).items() if value is not None}
    if backend == "slurm":
        from xlt.pipeline.slurm import SlurmOptions

        return SlurmOptions(**given)
    if backend != "local":
        raise XltError(f"--backend {backend!r}: choose local or slurm")
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise XltError(f"{flags}: Slurm options; add --backend slurm")
    return None


def _run(config: Path, out: Optional[Path], overrides: list[str], dry_run: bool, slurm=None) -> None:
    from xlt.config import load_study

    if out is not None:
        overrides = [*overrides, f"output_dir={out}"]
    study = load_study(config, overrides)
    if slurm is not None:
        from xlt.pipeline.slurm import submit_study

        submit_study(study, slurm, console, dry_run=dry_run)
        return
    from xlt.pipeline.runner import run_study

    run_study(study, console=console, dry_run=dry_run)


@app.command()
def status(study_dir: Path = typer.Argument(..., help="A study directory (its output_dir).")) -> None:
    """Every stage of a study: done, running, queued, failed (and why) or to run; collects results when done."""
    from xlt.pipeline.status import show_status

    show_status(study_dir, Console())


@app.command()
def report(study_dir: Path = typer.Argument(..., help="A study directory written by `xlt run`.")) -> None:
    """(Re)write report.md, report.html and heat maps from a study's results."""
    from xlt.report import build_report

    paths = build_report(study_dir)
    console.print(f"report at {paths.get('html')}")


@app.command()
def score(
    predictions: Path = typer.Option(..., "--predictions", help="Folder of {task}/test-{lang}.{tsv,json,jsonl}."),
    labels: Path = typer.Option(..., "--labels", help="Folder of gold files in the same layout."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated tasks (default: every folder)."),
    benchmark: Optional[str] = typer.Option(
        None, "--benchmark", help="xtreme or xtreme-r: average over its lists; add group and overall scores."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Score predictions exactly as the official XTREME / XTREME-R evaluator does."""
    from xlt.scoring import format_scores, score_folders, scores_json

    task_list = [t.strip() for t in tasks.split(",")] if tasks else None
    result = score_folders(predictions, labels, tasks=task_list, benchmark=benchmark)
    typer.echo(json.dumps(scores_json(result), indent=2, sort_keys=True) if as_json else format_scores(result))


@app.command()
def tasks() -> None:
    """The task registry: kind, metrics, languages and sources of every task."""
    from rich.table import Table

    from xlt.tasks.table import task_rows

    rows = task_rows()
    table = Table(title="xlt tasks")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    Console().print(table)


@app.command()
def pretrain(
    text: list[Path] = typer.Argument(..., help="UTF-8 text files: one sentence a line, one language a file."),
    out: Path = typer.Option(..., "--out", help="Directory for the encoder, tokenizer and loss curve."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Step budget (deterministic)."),
    mask_rate: Optional[float] = typer.Option(None, "--mask-rate", help="Share of tokens masked (80/10/10)."),
    temperature: Optional[float] = typer.Option(None, "--temperature", help="Language sampling temperature."),
    vocab_size: Optional[int] = typer.Option(None, "--vocab-size", help="Tokenizer vocabulary size."),
    hidden_size: Optional[int] = typer.Option(None, "--hidden-size", help="Encoder width."),
    layers: Optional[int] = typer.Option(None, "--layers", help="Encoder depth."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed."),
    set_: list[str] = typer.Option([], "--set", help="Any other PretrainOptions field: --set lr=1e-3"),
) -> None:
    """Train a tokenizer and pretrain a small XLM-R-shaped encoder by masked LM on your text."""
    from pydantic import ValidationError

    from xlt.config import describe_error, read_yaml
    from xlt.pretrain import PretrainOptions, pretrain as run_pretrain

    flags = dict(max_steps=max_steps, mask_rate=mask_rate, temperature=temperature, vocab_size=vocab_size,
                 hidden_size=hidden_size, layers=layers, seed=seed)
    fields = {k: v for k, v in flags.items() if v is not None}
    for item in set_:
        key, _, value = item.partition("=")
        fields[key] = read_yaml(value)
    try:
        options = PretrainOptions.model_validate(fields)
    except ValidationError as err:
        raise XltError(f"pretrain options: {describe_error(err)}") from None
    path = run_pretrain(text, out, options)
    console.print(f"encoder and tokenizer saved in {path}")


def _quiet_libraries() -> None:
    """xlt shows its own progress and one-line errors; the libraries' bars and warnings would bury them."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


def main() -> None:
    try:
        if len(sys.argv) > 1 and sys.argv[1] in ("run", "demo", "analyze"):
            _quiet_libraries()
        app()
    except XltError as err:
        console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
