"""`xlt score`: score a folder of submissions against a folder of gold files, as XTREME's evaluate.py.

Both folders hold `{task}/test-{lang}.{ext}`. Each language is scored with the task's official
scorer (`xlt.metrics`); a task's "avg" is the unweighted mean over languages (LAReQA, whose
`averaging` is "examples": the mean over all examples of all languages): over the benchmark's
language list when one is named (every listed language must be present), else over the languages
found. Tasks outside the named benchmark, and folders that are not tasks, are skipped and the
reason is kept in the result's `notes`.

On top, as the official evaluator: a task score (QA: (avg exact_match + avg f1) / 2, else the
average of the primary metric) and, with a benchmark, group scores and the overall `all_task`, each
only when every task it covers was scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from xlt.errors import XltError
from xlt.metrics import SCORERS, UNITS
from xlt.submission import read_labels, read_predictions
from xlt.tasks import TASKS, TaskSpec, get_task

# Task groups of the official evaluator, google-research/xtreme evaluate.py (commit 838c13b): XTREME_GROUP2TASK
# (GROUP2TASK before XTREME-R) and XTREME_R_GROUP2TASK. Kept as published: XTREME-R lists XCOPA under both
# "classification" and "multi_choice", and its "retrieval" leaves LAReQA out (it counts only in `all_task`).
GROUPS = {
    "xtreme": {
        "classification": ("pawsx", "xnli"),
        "tagging": ("udpos", "panx"),
        "qa": ("xquad", "mlqa", "tydiqa"),
        "retrieval": ("bucc2018", "tatoeba"),
    },
    "xtreme-r": {
        "classification": ("xnli", "xcopa"),
        "tagging": ("udpos", "panx"),
        "qa": ("xquad", "mlqa", "tydiqa"),
        "retrieval": ("tatoeba", "mewslix"),
        "multi_choice": ("xcopa",),
    },
}
BENCHMARKS = tuple(GROUPS)
QA_SCORERS = ("squad", "mlqa")


class Scores(dict):
    """{task: {lang: {metric: value}, "avg": {metric: value}}}; `notes` lists what was skipped."""

    def __init__(self, benchmark: str | None = None) -> None:
        super().__init__()
        self.benchmark = benchmark
        self.notes: list[str] = []

    @property
    def summary(self) -> dict:
        return summarize(self, self.benchmark)


class _Submission(NamedTuple):
    predictions: list
    golds: list
    where: str  # "PREDICTIONS against LABELS", for messages


def _read(spec: TaskSpec, predictions_path: Path, labels_path: Path) -> _Submission:
    """Predictions and golds in gold order; JSON submissions align on ids, which must be the gold ids
    exactly (the official evaluator scores a missing one 0: a truncated file would score silently)."""
    fmt = spec.submission
    predictions = read_predictions(predictions_path, fmt)
    golds = read_labels(labels_path, fmt)
    if fmt == "json":
        _check_ids(predictions, golds, predictions_path, labels_path)
        predictions, golds = [predictions[id_] for id_ in golds], list(golds.values())
    return _Submission(predictions, golds, f"{predictions_path} against {labels_path}")


def _check_ids(predictions: dict, golds: dict, predictions_path: Path, labels_path: Path) -> None:
    missing = [id_ for id_ in golds if id_ not in predictions]
    extra = [id_ for id_ in predictions if id_ not in golds]
    if missing:
        raise XltError(
            f"{predictions_path} has no prediction for {len(missing)} of the {len(golds)} ids of"
            f' {labels_path} (first: {missing[0]!r}); predict every id (unanswered: "" or [])'
        )
    if extra:
        raise XltError(
            f"{predictions_path} predicts {len(extra)} ids that {labels_path} lacks (first:"
            f" {extra[0]!r}); is it the file of another language or split?"
        )


def _apply(function, submission: _Submission, lang: str):
    try:
        return function(submission.predictions, submission.golds, lang)
    except XltError as error:
        raise XltError(f"{submission.where}: {error}") from None


def _pooled(spec: TaskSpec, submissions: dict[str, _Submission]) -> dict[str, float]:
    """Each metric over every example of every language at once (LAReQA: a mean over all questions)."""
    average = {}
    for metric, units in UNITS[spec.scorer].items():
        parts = [_apply(units, submission, lang) for lang, submission in submissions.items()]
        average[metric] = 100 * sum(sum(num) for num, _ in parts) / sum(sum(den) for _, den in parts)
    return average


def _subfolders(path: Path) -> set[str]:
    if not path.is_dir():
        raise XltError(f"{path} is not a folder; expected one holding {{task}}/test-{{lang}}.{{ext}} files")
    return {child.name for child in path.iterdir() if child.is_dir()}


def _task_names(predictions_dir: Path, labels_dir: Path, tasks: Sequence[str] | None, notes: list[str]) -> list[str]:
    predicted, labelled = _subfolders(predictions_dir), _subfolders(labels_dir)
    if tasks is not None:
        for task in tasks:
            get_task(task)
            for folder, found in ((predictions_dir, predicted), (labels_dir, labelled)):
                if task not in found:
                    raise XltError(f"{folder / task} does not exist; add its files or leave {task} out of --tasks")
        return list(tasks)
    for name in sorted(predicted ^ labelled):
        notes.append(f"{name}: only in {'predictions' if name in predicted else 'labels'}; skipped")
    for name in sorted((predicted & labelled) - set(TASKS)):
        notes.append(f"{name}: not a known task; skipped")
    return sorted((predicted & labelled) & set(TASKS))


def _languages(
    spec: TaskSpec, predictions_dir: Path, labels_dir: Path, benchmark: str | None, notes: list[str]
) -> tuple[str, ...]:
    if benchmark is not None:
        languages = tuple(spec.languages.get(benchmark, ()))
        if not languages:
            notes.append(f"{spec.name}: not part of {benchmark}; skipped")
        return languages
    found = _languages_in(predictions_dir / spec.name, spec.submission_ext)
    if not found:
        raise XltError(
            f"{predictions_dir / spec.name} holds no test-{{lang}}.{spec.submission_ext} file; write one per language"
        )
    unpredicted = sorted(set(_languages_in(labels_dir / spec.name, spec.submission_ext)) - set(found))
    if unpredicted:
        raise XltError(
            f"{predictions_dir / spec.name} lacks the languages {', '.join(unpredicted)} that"
            f" {labels_dir / spec.name} has; predict them, or name a --benchmark to score its list"
        )
    return tuple(found)


def _languages_in(folder: Path, ext: str) -> list[str]:
    return sorted(path.name[len("test-") : -len(ext) - 1] for path in folder.glob(f"test-*.{ext}"))


def _mean(per_language: Iterable[dict[str, float]]) -> dict[str, float]:
    rows = list(per_language)
    return {metric: sum(row[metric] for row in rows) / len(rows) for metric in rows[0]}


def _score_task(spec: TaskSpec, languages: Sequence[str], predictions_dir: Path, labels_dir: Path) -> dict:
    submissions = {}
    for lang in languages:
        file = f"{spec.name}/test-{lang}.{spec.submission_ext}"
        submissions[lang] = _read(spec, predictions_dir / file, labels_dir / file)
    scores = {lang: _apply(SCORERS[spec.scorer], submission, lang) for lang, submission in submissions.items()}
    average = _pooled(spec, submissions) if spec.averaging == "examples" else _mean(scores.values())
    return {**scores, "avg": average}


def score_folders(
    predictions_dir: Path, labels_dir: Path, tasks: Sequence[str] | None = None, benchmark: str | None = None
) -> Scores:
    if benchmark is not None and benchmark not in BENCHMARKS:
        raise XltError(f"unknown benchmark {benchmark!r}; use one of {', '.join(BENCHMARKS)}")
    predictions_dir, labels_dir = Path(predictions_dir), Path(labels_dir)
    result = Scores(benchmark)
    for task in _task_names(predictions_dir, labels_dir, tasks, result.notes):
        spec = get_task(task)
        languages = _languages(spec, predictions_dir, labels_dir, benchmark, result.notes)
        if languages:
            result[task] = _score_task(spec, languages, predictions_dir, labels_dir)
    return result


def task_score(spec: TaskSpec, average: dict[str, float]) -> float:
    if spec.scorer in QA_SCORERS:
        return (average["exact_match"] + average["f1"]) / 2
    return average[spec.primary_metric]


def benchmark_tasks(benchmark: str) -> list[str]:
    """Every task with a language list for the benchmark (the official evaluator's TASK2LANGS)."""
    return [name for name, spec in TASKS.items() if benchmark in spec.languages]


def _unscored(result: dict, benchmark: str) -> dict[str, list[str]]:
    """Each group, and `all_task`, mapped to its tasks that were not scored."""
    covers = {**GROUPS[benchmark], "all_task": benchmark_tasks(benchmark)}
    return {name: [task for task in tasks if task not in result] for name, tasks in covers.items()}


def _mean_of(tasks: Sequence[str], scores: dict[str, float]) -> float:
    return sum(scores[task] for task in tasks) / len(tasks)


def summarize(result: dict, benchmark: str | None = None) -> dict:
    """{"tasks": {task: score}, "groups": {group: score}, "all_task": score (only when complete)}."""
    tasks = {task: task_score(get_task(task), scores["avg"]) for task, scores in result.items()}
    summary = {"tasks": tasks, "groups": {}}
    if benchmark is None:
        return summary
    for group, members in GROUPS[benchmark].items():
        if all(task in tasks for task in members):
            summary["groups"][group] = _mean_of(members, tasks)
    everything = benchmark_tasks(benchmark)
    if all(task in tasks for task in everything):
        summary["all_task"] = _mean_of(everything, tasks)
    return summary


def scores_json(result: Scores) -> dict:
    """The `--json` object: the per-task scores as they are, plus "summary"."""
    return {**result, "summary": result.summary}


def _task_table(task: str, scores: dict[str, dict[str, float]]) -> list[str]:
    metrics = list(scores["avg"])
    widths = [max(len(metric), 7) for metric in metrics]
    languages = [lang for lang in scores if lang != "avg"]
    header = "  lang  " + "  ".join(metric.rjust(width) for metric, width in zip(metrics, widths))
    lines = [f"{task} (mean over {len(languages)} languages)", header]
    for lang in [*languages, "avg"]:
        values = "  ".join(f"{scores[lang][m]:.2f}".rjust(w) for m, w in zip(metrics, widths))
        lines.append(f"  {lang:<4}  {values}")
    return lines


def _score_rows(title: str, scores: dict[str, float]) -> list[str]:
    return [title, *(f"  {name:<14}  {score:7.2f}" for name, score in scores.items())] if scores else []


def _summary_lines(result: dict) -> list[str]:
    benchmark = getattr(result, "benchmark", None)
    summary = summarize(result, benchmark)
    lines = _score_rows("task scores (QA tasks: (exact_match + f1) / 2)", summary["tasks"])
    if benchmark is None:
        return lines
    overall = {"all_task": summary["all_task"]} if "all_task" in summary else {}
    lines += _score_rows(f"{benchmark} group scores", {**summary["groups"], **overall})
    missing = [f"{name} (no {', '.join(tasks)})" for name, tasks in _unscored(result, benchmark).items() if tasks]
    if missing:
        lines.append(f"note: left out because a task is missing: {'; '.join(missing)}")
    return lines


def format_scores(result: dict) -> str:
    """A readable text table per task (one row per language, then the average row), then the summary."""
    blocks = ["\n".join(_task_table(task, scores)) for task, scores in result.items()]
    if result:
        blocks.append("\n".join(_summary_lines(result)))
    notes = [f"note: {note}" for note in getattr(result, "notes", [])]
    if notes:
        blocks.append("\n".join(notes))
    return "\n\n".join(blocks) or "no task scored"
