"""xlt from Python (a notebook): run a study, or load one, as pandas DataFrames with typed columns.

    study = xlt.run("study.yaml", seeds=[0, 1], methods__finetune__options__lr=3e-5)
    study = xlt.load_study("runs/demo")
    study.results, study.contrasts, study.provenance, study.languages, study.config
    study.examples(task="xnli", language="de")   # each example's gold and every recipe's prediction

`xlt.run` takes the overrides of `xlt run --set` as keyword arguments (`a__b=value` or `**{"a.b": value}` for the
field a.b) and, like `xlt run`, trains only what is not complete. `xlt.load_study` reads the study directory alone.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from xlt.errors import XltError
from xlt.results.layout import CONTRASTS, EXAMPLES, LANGUAGES, PROVENANCE, RESULTS
from xlt.results.rows import ContrastRow, ResultRow

LABELS = "string"  # names, codes and hashes
RESULT_TYPES = ResultRow.dtypes()
CONTRAST_TYPES = ContrastRow.dtypes()
EXAMPLE_COLUMNS = (
    "method",
    "intermediate",
    "seed",
    "task",
    "split",
    "eval_language",
    "id",
    "text",
    "gold",
    "prediction",
)
EXAMPLE_TYPES = {"method": LABELS, "intermediate": LABELS, "seed": "int64", "task": LABELS, "split": LABELS}
EXAMPLE_TYPES |= {"eval_language": LABELS, "id": LABELS, "correct": "bool"}
# provenance.json's stage records: column -> (path in the record, type)
STAGE_COLUMNS = {
    "stage": (("stage",), LABELS),
    "role": (("role",), LABELS),
    "task": (("task",), LABELS),
    "method": (("method",), LABELS),
    "seed": (("seed",), "Int64"),
    "parent": (("parent",), LABELS),
    "steps": (("steps",), "Int64"),
    "examples": (("examples",), "Int64"),
    "trainable": (("parameters", "trainable"), "Int64"),
    "total": (("parameters", "total"), "Int64"),
    "wall_seconds": (("wall_seconds",), "float64"),
    "final_loss": (("final_loss",), "float64"),
    "selected_step": (("selection", "dev", "step"), "Int64"),
}


@dataclass(frozen=True)
class StudyResults:
    directory: Path
    results: pd.DataFrame  # results.csv; `primary` is a bool
    contrasts: pd.DataFrame  # contrasts.csv (empty until the report is written)
    provenance: pd.DataFrame  # one row per training stage, indexed by its hash
    languages: pd.DataFrame  # languages.json: one row per language
    config: dict[str, Any]  # the resolved study config

    def examples(self, task: str | None = None, language: str | None = None) -> pd.DataFrame:
        """Every recipe's per-example outputs (examples/, written with the predictions), one row per example and
        run: method, intermediate, seed, task, split, eval_language, id, text (a dict of the example's text
        fields), gold, prediction and correct; `task` and `language` select."""
        from xlt.report.examples import read_examples

        runs = self.results[["method", "intermediate", "seed", "target_task", "split", "eval_language"]]
        rows = []
        for method, intermediate, seed, found, split, lang in runs.drop_duplicates().itertuples(index=False):
            if (task or found) != found or (language or lang) != lang:
                continue
            path = self.directory / EXAMPLES / f"{method}.{intermediate}.seed{seed}" / found / f"{split}-{lang}.jsonl"
            run = {"method": method, "intermediate": intermediate, "seed": seed, "task": found, "split": split}
            rows += [
                {**run, "eval_language": lang, **record, "correct": record["prediction"] == record["gold"]}
                for record in (read_examples(path) if path.is_file() else [])
            ]
        columns = [*EXAMPLE_COLUMNS, "correct"]
        return pd.DataFrame(rows, columns=columns).astype(EXAMPLE_TYPES)


def load_study(directory: str | Path) -> StudyResults:
    directory = Path(directory)
    if not (directory / RESULTS).is_file():
        raise XltError(f"no {RESULTS} in {directory}: give a study directory that `xlt run` has written")
    results = pd.read_csv(directory / RESULTS, dtype=RESULT_TYPES, keep_default_na=False, na_values=[""])
    results["primary"] = results["primary"].astype(bool)
    contrasts = (
        pd.read_csv(directory / CONTRASTS, dtype=CONTRAST_TYPES)
        if (directory / CONTRASTS).is_file()
        else pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in CONTRAST_TYPES.items()})
    )
    provenance = _read_json(directory / PROVENANCE)
    languages = pd.DataFrame.from_dict(_read_json(directory / LANGUAGES), orient="index").convert_dtypes()
    return StudyResults(
        directory,
        results,
        contrasts,
        _stages(provenance.get("stages") or {}),
        languages,
        provenance.get("config") or {},
    )


def run(config: str | Path | dict, progress: bool = False, **overrides: Any) -> StudyResults:
    """Run the study `config` (a YAML path or the config as a dict) with `overrides`, then load it."""
    from xlt.config import read_config, set_field, validate_study
    from xlt.pipeline.run.runner import run_study

    raw = copy.deepcopy(config) if isinstance(config, dict) else read_config(Path(config))
    for key, value in overrides.items():
        set_field(raw, key.replace("__", "."), value)
    study = validate_study(raw, "the study dict" if isinstance(config, dict) else str(config))
    return load_study(run_study(study, progress=progress).out_dir)


def _stages(records: dict[str, dict]) -> pd.DataFrame:
    rows = {
        stage_hash: {name: _lookup(record, path) for name, (path, _) in STAGE_COLUMNS.items()}
        for stage_hash, record in records.items()
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(STAGE_COLUMNS))
    frame.index = frame.index.astype(LABELS).rename("hash")
    return frame.astype({name: kind for name, (_, kind) in STAGE_COLUMNS.items()})


def _lookup(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        record = record.get(key) if isinstance(record, dict) else None
    return record


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
