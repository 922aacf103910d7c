"""`xlt score`: score a folder of submissions against a folder of gold files, as XTREME's evaluate.py.

Both folders hold `{task}/test-{lang}.{ext}`. Each language is scored with the task's official
scorer (`xlt.metrics`); a task's "avg" is the unweighted mean over languages (LAReQA, whose
`averaging` is "examples": the mean over all examples of all languages): over the benchmark's
language list when one is named, else over the languages found. With a benchmark, the languages
whose files are missing are listed in the result's `missing` and the others are scored; such a task
gets no "avg" (the official evaluator stops at the first missing file, and a mean over fewer
languages is not its number). Tasks outside the named benchmark, and folders that are not tasks,
are skipped and the reason is kept in the result's `notes`.

An id a submission leaves unanswered counts as the official scorer counts it (`xlt.metrics.UNANSWERED`):
in an id-keyed (JSON) file an unanswered id scores 0 and stays in the denominator, and an id the gold
file lacks is ignored; each such file adds one line to the result's `warnings` (`strict`: an error
instead). A line-aligned file of another length stays an error: the official evaluator stops on it.

On top, as the official evaluator: a task score (QA: (avg exact_match + avg f1) / 2, else the
average of the primary metric) and, with a benchmark, group scores and the overall `all_task`, each
only when every task it covers was scored with an average.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from xlt.errors import XltError
from xlt.metrics import SCORERS, UNANSWERED, UNITS
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
    """{task: {lang: {metric: value}, "avg": {metric: value}}}; `notes` lists what was skipped, `warnings` the
    files with unanswered or unknown ids, `missing` {task: languages} the benchmark files not found."""

    def __init__(self, benchmark: str | None = None) -> None:
        super().__init__()
        self.benchmark = benchmark
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.missing: dict[str, list[str]] = {}

    @property
    def summary(self) -> dict:
        return summarize(self, self.benchmark)


class _Submission(NamedTuple):
    predictions: list
    golds: list
    where: str  # "PREDICTIONS against LABELS", for messages
    gaps: str | None  # what an id-keyed file leaves unanswered or answers beyond the gold ids, as one line


def _read(spec: TaskSpec, predictions_path: Path, labels_path: Path) -> _Submission:
    """Predictions and golds in gold order; JSON submissions align on ids, an unanswered one as None (every
    scorer of an id-keyed format scores None 0: its `UNANSWERED` rule is "zero")."""
    fmt = spec.submission
    predictions = read_predictions(predictions_path, fmt)
    golds = read_labels(labels_path, fmt)
    gaps = None
    if fmt == "json":
        gaps = _id_gaps(predictions, golds, predictions_path, labels_path)
        predictions, golds = [predictions.get(id_) for id_ in golds], list(golds.values())
    return _Submission(predictions, golds, f"{predictions_path} against {labels_path}", gaps)


def _id_gaps(predictions: dict, golds: dict, predictions_path: Path, labels_path: Path) -> str | None:
    unanswered = [id_ for id_ in golds if id_ not in predictions]
    unknown = [id_ for id_ in predictions if id_ not in golds]
    parts = []
    if unanswered:
        parts.append(
            f"leaves {len(unanswered)} of the {len(golds)} ids of {labels_path} unanswered (first:"
            f" {unanswered[0]!r}): each scores 0, as in the official evaluator"
        )
    if unknown:
        parts.append(
            f"answers {len(unknown)} ids the gold file lacks (first: {unknown[0]!r}):"
            " ignored, as in the official evaluator"
        )
    return f"{predictions_path} {'; '.join(parts)}" if parts else None


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


def _file(spec: TaskSpec, lang: str) -> str:
    return f"{spec.name}/test-{lang}.{spec.submission_ext}"


def _missing_files(tasks: Iterable[str], benchmark: str, predictions_dir: Path, labels_dir: Path) -> dict[str, list]:
    """{task: its benchmark languages lacking a prediction or a gold file}, for the tasks that lack any."""
    missing = {}
    for task in tasks:
        spec = get_task(task)
        absent = [
            lang
            for lang in spec.languages.get(benchmark, ())
            if not all((folder / _file(spec, lang)).is_file() for folder in (predictions_dir, labels_dir))
        ]
        if absent:
            missing[task] = absent
    return missing


def _languages(spec: TaskSpec, predictions_dir: Path, labels_dir: Path, result: Scores) -> tuple[str, ...]:
    if result.benchmark is not None:
        languages = tuple(spec.languages.get(result.benchmark, ()))
        if not languages:
            result.notes.append(f"{spec.name}: not part of {result.benchmark}; skipped")
        return tuple(lang for lang in languages if lang not in result.missing.get(spec.name, ()))
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


def _score_task(spec: TaskSpec, submissions: dict[str, _Submission], complete: bool) -> dict:
    scores = {lang: _apply(SCORERS[spec.scorer], submission, lang) for lang, submission in submissions.items()}
    if not complete:
        return scores
    average = _pooled(spec, submissions) if spec.averaging == "examples" else _mean(scores.values())
    return {**scores, "avg": average}


def _report(gaps: str | None, result: Scores, strict: bool) -> None:
    if gaps is None:
        return
    if strict:
        raise XltError(f'{gaps}; --strict refuses it: predict exactly the gold ids ("" or [] for no answer)')
    result.warnings.append(gaps)


def score_folders(
    predictions_dir: Path,
    labels_dir: Path,
    tasks: Sequence[str] | None = None,
    benchmark: str | None = None,
    strict: bool = False,
) -> Scores:
    if benchmark is not None and benchmark not in BENCHMARKS:
        raise XltError(f"unknown benchmark {benchmark!r}; use one of {', '.join(BENCHMARKS)}")
    predictions_dir, labels_dir = Path(predictions_dir), Path(labels_dir)
    result = Scores(benchmark)
    names = _task_names(predictions_dir, labels_dir, tasks, result.notes)
    if benchmark is not None:
        expected = benchmark_tasks(benchmark) if tasks is None else tasks
        result.missing = _missing_files(expected, benchmark, predictions_dir, labels_dir)
    for task in names:
        spec = get_task(task)
        submissions = {
            lang: _read(spec, predictions_dir / _file(spec, lang), labels_dir / _file(spec, lang))
            for lang in _languages(spec, predictions_dir, labels_dir, result)
        }
        for submission in submissions.values():
            _report(submission.gaps, result, strict)
        if submissions:
            result[task] = _score_task(spec, submissions, complete=task not in result.missing)
    return result


def task_score(spec: TaskSpec, average: dict[str, float]) -> float:
    if spec.scorer in QA_SCORERS:
        return (average["exact_match"] + average["f1"]) / 2
    return average[spec.primary_metric]


def benchmark_tasks(benchmark: str) -> list[str]:
    """Every task with a language list for the benchmark (the official evaluator's TASK2LANGS)."""
    return [name for name, spec in TASKS.items() if benchmark in spec.languages]


def _unscored(tasks: dict[str, float], benchmark: str) -> dict[str, list[str]]:
    """Each group, and `all_task`, mapped to its tasks without a task score."""
    covers = {**GROUPS[benchmark], "all_task": benchmark_tasks(benchmark)}
    return {name: [task for task in members if task not in tasks] for name, members in covers.items()}


def _mean_of(tasks: Sequence[str], scores: dict[str, float]) -> float:
    return sum(scores[task] for task in tasks) / len(tasks)


def summarize(result: dict, benchmark: str | None = None) -> dict:
    """{"tasks": {task: score}, "groups": {group: score}, "all_task": score (only when complete)}; a task
    scores only with its average (not when a benchmark language is missing)."""
    tasks = {task: task_score(get_task(task), scores["avg"]) for task, scores in result.items() if "avg" in scores}
    summary: dict[str, Any] = {"tasks": tasks, "groups": {}}
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
    """The `--json` object: the per-task scores as they are, plus "summary" (with "missing" when files are)."""
    missing = {"missing": result.missing} if result.missing else {}
    return {**result, "summary": {**result.summary, **missing}}


def _task_table(task: str, scores: dict[str, dict[str, float]], missing: Sequence[str]) -> list[str]:
    languages = [lang for lang in scores if lang != "avg"]
    metrics = list(scores[languages[0]])
    widths = [max(len(metric), 7) for metric in metrics]
    header = "  lang  " + "  ".join(metric.rjust(width) for metric, width in zip(metrics, widths))
    if missing:
        title = f"{task} ({len(languages)} of {len(languages) + len(missing)} languages; no average without the rest)"
    else:
        title = f"{task} (mean over {len(languages)} languages)"
    lines = [title, header]
    for lang in scores:
        values = "  ".join(f"{scores[lang][m]:.2f}".rjust(w) for m, w in zip(metrics, widths))
        lines.append(f"  {lang:<4}  {values}")
    return lines


def _score_rows(title: str, scores: dict[str, float]) -> list[str]:
    return [title, *(f"  {name:<14}  {score:7.2f}" for name, score in scores.items())] if scores else []


def _missing_line(missing: dict[str, list[str]], result: dict) -> str:
    """One line: each task's missing languages, then the tasks with no file at all."""
    partial, absent = [], []
    for task, languages in missing.items():
        if task in result:
            listed = len(languages) + len(result[task])
            partial.append(f"{task}: {' '.join(languages)} ({len(languages)} of {listed})")
        else:
            absent.append(task)
    parts = [*partial, *([f"no file of {', '.join(absent)}"] if absent else [])]
    return f"note: missing files (a task missing any gets no average): {'; '.join(parts)}"


def _summary_lines(result: dict) -> list[str]:
    benchmark = getattr(result, "benchmark", None)
    summary = summarize(result, benchmark)
    lines = _score_rows("task scores (QA tasks: (exact_match + f1) / 2)", summary["tasks"])
    if benchmark is None:
        return lines
    overall = {"all_task": summary["all_task"]} if "all_task" in summary else {}
    lines += _score_rows(f"{benchmark} group scores", {**summary["groups"], **overall})
    missing = getattr(result, "missing", {})
    if missing:
        lines.append(_missing_line(missing, result))
    unscored = _unscored(summary["tasks"], benchmark)
    left_out = [f"{name} (no {', '.join(tasks)})" for name, tasks in unscored.items() if tasks]
    if left_out:
        lines.append(f"note: left out because a task has no score: {'; '.join(left_out)}")
    return lines


def format_scores(result: dict) -> str:
    """A readable text table per task (one row per language, then the average row), then the summary."""
    missing = getattr(result, "missing", {})
    blocks = ["\n".join(_task_table(task, scores, missing.get(task, ()))) for task, scores in result.items()]
    if result or missing:
        blocks.append("\n".join(_summary_lines(result)))
    notes = [f"note: {note}" for note in getattr(result, "notes", [])]
    if notes:
        blocks.append("\n".join(notes))
    return "\n\n".join(blocks) or "no task scored"


def unanswered_table() -> str:
    """docs/scoring.md's table: per scorer, its benchmark tasks, the official rule and what `xlt score` does."""
    does = {
        "zero": "scores it 0, in the denominator; one warning line a file (`--strict`: an error)",
        "refuse": "refuses the file: one error line, exit 2",
        "set": "scores the pairs given (a pair not predicted lowers recall)",
    }
    rows = ["| scorer | tasks | the official evaluator | `xlt score` |", "|---|---|---|---|"]
    scorers = {name: get_task(name).scorer for benchmark in BENCHMARKS for name in benchmark_tasks(benchmark)}
    for scorer, (rule, official) in UNANSWERED.items():
        tasks = ", ".join(sorted(name for name, by in scorers.items() if by == scorer))
        rows.append(f"| `{scorer}` | {tasks} | {official} | {does[rule]} |")
    return "\n".join(rows)
