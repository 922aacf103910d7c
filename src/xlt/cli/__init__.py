"""The `xlt` command: one call into the library per command; every failure becomes one line (`xlt.cli.guard`)."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console

import xlt
from xlt.cli import guard
from xlt.cli.backends import Backends, backend_options
from xlt.demo import DEMO_CONFIG, QUICK_DEMO
from xlt.errors import XltError
from xlt.runtime.display import quiet_libraries


class _Flags:
    """Typer's commands, less the `<bool>` they show beside a flag in --help as if the flag took a value."""

    def get_params(self, ctx):
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class Command(_Flags, typer.core.TyperCommand):
    pass


class Group(_Flags, typer.core.TyperGroup):
    pass


app = typer.Typer(
    cls=Group,
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Cross-lingual transfer studies: what does a training recipe do to zero-shot transfer?",
)
console = Console(stderr=True)  # progress, warnings, errors: what a command says while it works


def output() -> Console:
    """A command's answer (the plan, every table): stdout, at full width off a terminal (a file, a pipe, a
    cluster's log), where rich would otherwise cut columns at 80 characters."""
    return Console() if sys.stdout.isatty() else Console(width=UNBOUNDED_WIDTH)


UNBOUNDED_WIDTH = 1000  # wider than any table xlt prints: nothing is cut or wrapped
QUICK = [f"{key}={json.dumps(value)}" for key, value in QUICK_DEMO.items()]  # as --set overrides


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xlt {xlt.__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """xlt compares recipes (methods x intermediate tasks) on zero-shot transfer to every language."""


@app.command(cls=Command)
@backend_options
def run(
    config: Path = typer.Argument(..., help="Study YAML (see configs/demo.yaml and the README's config reference)."),
    out: Path | None = typer.Option(None, "--out", help="Study directory (overrides output_dir)."),
    set_: list[str] = typer.Option([], "--set", help="Override a field: --set methods.finetune.options.lr=3e-5"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (stages, sharing, status) and stop."),
    *,
    backend: Backends,
) -> None:
    """Run a study from a YAML file: train what is not complete, evaluate, write results and a report."""
    _run(config, out, set_, dry_run, backend)


@app.command(cls=Command)
@backend_options
def demo(
    quick: bool = typer.Option(
        False, "--quick", help="Tiny budgets: the whole grid in under 30 seconds (mechanics only)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Study directory (default runs/demo or runs/demo-quick)."),
    set_: list[str] = typer.Option([], "--set", help="Override a field of configs/demo.yaml."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and stop."),
    *,
    backend: Backends,
) -> None:
    """The built-in study on the embedded synthetic benchmark (pretrains a small encoder once, cached)."""
    if out is None:
        out = Path("runs") / ("demo-quick" if quick else "demo")
    if backend.workers is None and backend.backend == "local":
        from xlt.pipeline.run.workers import demo_workers

        backend = replace(backend, workers=demo_workers())
    _run(DEMO_CONFIG, out, (QUICK if quick else []) + list(set_), dry_run, backend)


def _run(config: Path, out: Path | None, overrides: list[str], dry_run: bool, backend: Backends) -> None:
    from xlt.config import load_study

    slurm = backend.slurm()
    if out is not None:
        overrides = [*overrides, f"output_dir={out}"]
    study = load_study(config, overrides + backend.overrides())
    if slurm is not None:
        from xlt.pipeline.slurm import submit_study

        submit_study(study, slurm, output(), dry_run=dry_run)
        return
    from xlt.pipeline.run.runner import run_study

    run_study(study, console=console, output=output(), dry_run=dry_run, workers=backend.workers or 1)


@app.command(cls=Command)
def status(study_dir: Path = typer.Argument(..., help="A study directory (its output_dir).")) -> None:
    """Every stage of a study: done, running, queued, failed (and why) or to run; collects results when done."""
    from xlt.pipeline.run.status import show_status

    show_status(study_dir, output())


@app.command(cls=Command)
def report(
    study_dir: Path = typer.Argument(..., help="A study directory written by `xlt run`."),
    latex: bool = typer.Option(False, "--latex", help="Also write booktabs tables (scores, contrasts): tables/*.tex."),
    csv_wide: bool = typer.Option(False, "--csv-wide", help="Also write results_wide.csv: recipe x language."),
    examples: int = typer.Option(
        0, "--examples", min=0, help="Show N test examples per task and language where the recipes disagree."
    ),
) -> None:
    """(Re)write report.md, report.html and its figures from a study's results."""
    from xlt.report import build_report

    paths = build_report(study_dir, latex=latex, csv_wide=csv_wide, examples=examples)
    tex = [path for key, path in paths.items() if key.endswith(".tex")]
    lines = [f"report at {paths.get('html')}"] + ([f"{len(tex)} booktabs tables in {tex[0].parent}"] if tex else [])
    for line in lines + ([f"wide CSV at {paths['wide']}"] if "wide" in paths else []):
        console.print(line, highlight=False, soft_wrap=True)


@app.command(cls=Command)
def analyze(
    study_dir: Path | None = typer.Argument(None, help="A study directory written by `xlt run` / `xlt demo`."),
    model: str | None = typer.Option(None, "--model", help="Analyse a bare encoder (directory or Hub id)."),
    out: Path | None = typer.Option(None, "--out", help="With --model: where analysis/ and the report go."),
    parallel: str | None = typer.Option(
        None, "--parallel", help="synthetic[:DIR], tatoeba:DIR, xnli[:DIR], xquad[:DIR] or pairs:BASE.txt,OTHER.txt"
    ),
    layers: str = typer.Option("all", "--layers", help="'all' or hidden-state indices: 0 (embeddings),...,last"),
    pooling: str = typer.Option("mean", "--pooling", help="mean (over tokens) or cls (the <s> state)."),
    max_sentences: int = typer.Option(1000, "--max", help="Parallel sentences per language (the first N)."),
) -> None:
    """Representation analysis: cross-lingual similarity per layer for the base encoder and every trained stage."""
    from xlt.analysis.run import analyze as run_analysis

    directory = run_analysis(study_dir, model, out, parallel, layers, pooling, max_sentences)
    console.print(f"analysis in {directory}")


@app.command(cls=Command)
def score(
    predictions: Path = typer.Option(..., "--predictions", help="Folder of {task}/test-{lang}.{tsv,json,jsonl}."),
    labels: Path = typer.Option(..., "--labels", help="Folder of gold files in the same layout."),
    tasks: str | None = typer.Option(None, "--tasks", help="Comma-separated tasks (default: every folder)."),
    benchmark: str | None = typer.Option(
        None,
        "--benchmark",
        help="xtreme or xtreme-r: average over its lists; add group and overall scores; list missing files.",
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="An unanswered id or one the gold lacks is an error (else a warning: the official evaluator"
        " scores it 0 or ignores it).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Score predictions exactly as the official XTREME / XTREME-R evaluator does."""
    from xlt.scoring import format_scores, score_folders, scores_json

    task_list = [t.strip() for t in tasks.split(",")] if tasks else None
    result = score_folders(predictions, labels, tasks=task_list, benchmark=benchmark, strict=strict)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(json.dumps(scores_json(result), indent=2, sort_keys=True) if as_json else format_scores(result))


@app.command(cls=Command)
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
    output().print(table)


@app.command(cls=Command)
def pretrain(
    text: list[str] = typer.Argument(
        ...,
        help="UTF-8 text files, one sentence a line, one language a file: PATH"
        " (named by its stem, or its last suffix when stems collide) or LANG=PATH.",
    ),
    out: Path = typer.Option(..., "--out", help="Directory for the encoder, tokenizer and loss curve."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Step budget (deterministic)."),
    mask_rate: float | None = typer.Option(None, "--mask-rate", help="Share of tokens masked (80/10/10)."),
    temperature: float | None = typer.Option(None, "--temperature", help="Language sampling temperature."),
    vocab_size: int | None = typer.Option(None, "--vocab-size", help="Tokenizer vocabulary size."),
    hidden_size: int | None = typer.Option(None, "--hidden-size", help="Encoder width."),
    layers: int | None = typer.Option(None, "--layers", help="Encoder depth."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed."),
    checkpoint_every: int | None = typer.Option(
        None, "--checkpoint-every", help="Steps between resume points (default 200); the same command resumes."
    ),
    set_: list[str] = typer.Option([], "--set", help="Any other PretrainOptions field: --set lr=1e-3"),
) -> None:
    """Train a tokenizer and pretrain a small XLM-R-shaped encoder by masked LM on your text (stopped or killed,
    the same command resumes)."""
    from pydantic import ValidationError

    from xlt.config import describe_error, read_yaml
    from xlt.pretrain import PretrainOptions
    from xlt.pretrain import pretrain as run_pretrain

    flags = dict(
        max_steps=max_steps,
        mask_rate=mask_rate,
        temperature=temperature,
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        layers=layers,
        seed=seed,
        checkpoint_every=checkpoint_every,
    )
    fields = {k: v for k, v in flags.items() if v is not None}
    for item in set_:
        key, _, value = item.partition("=")
        fields[key] = read_yaml(value)
    try:
        options = PretrainOptions.model_validate(fields)
    except ValidationError as err:
        raise XltError(f"pretrain options: {describe_error(err)}") from None
    path = run_pretrain(text, out, options)
    console.print(f"encoder and tokenizer saved in {path}", highlight=False, soft_wrap=True)


def main() -> None:
    guard.run(_command)


def _command() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("run", "demo", "analyze", "pretrain"):
        quiet_libraries()
    app()
