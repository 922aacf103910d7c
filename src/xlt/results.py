"""The tidy results a study writes: one row per score, plus per-example units for the bootstrap.

Layout of a study directory (the report reads only these files, never torch):
  results.csv                    COLUMNS below, one row per (recipe, eval language, split, metric)
  units/{stage_hash}/{split}-{lang}.npz  arrays `num`, `den` for the row group's primary metric:
                                 primary value == 100 * num.sum() / den.sum(); examples in the same
                                 order for every recipe of a task, so bootstraps can be paired
  predictions/{task}/test-{lang}.{ext}   XTREME submission layout (of the latest recipe evaluated)
  languages.json                 optional {lang: {property: value}} shown beside the scores
  provenance.json                resolved config, versions, git commit, per-stage counts and times
"""

from __future__ import annotations

COLUMNS = (
    "method",  # recipe's method name as in the config, or a reference: "majority", "random_init"
    "intermediate",  # intermediate condition name ("none" when there is none)
    "target_task",
    "train_languages",  # "+"-joined, e.g. "en" or "en+de"
    "eval_language",
    "split",  # "test" or "dev"
    "metric",
    "value",  # x100, as the official evaluator reports
    "seed",
    "stage_hash",  # hash of the target stage that produced the row (keys units/)
    "primary",  # 1 when `metric` is the task's primary metric, else 0
)
