"""MLQA (XTREME, XTREME-R): extractive QA in 7 languages; trained on SQuAD, scored with MLQA's script."""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = tuple("ar de en es hi vi zh".split())

SOURCE = TaskSource(
    "mlqa",
    # context and question in the same language, as XTREME evaluates (the release also has G-XLT pairs)
    layouts=(Layout({s: f"mlqa/MLQA_V1/{s}/{s}-context-{{lang}}-question-{{lang}}.json" for s in ("dev", "test")},
                    formats.squad_json),),
    hub=HubSource("google/xtreme", "MLQA.{lang}.{lang}", {"dev": "validation", "test": "test"}, hub_rows.squad_rows()),
)

register(
    TaskSpec(
        name="mlqa",
        kind="qa",
        metrics=("f1", "exact_match"),
        scorer="mlqa",
        languages={"xtreme": LANGUAGES, "xtreme-r": LANGUAGES},
        load=SOURCE,
        train_task="squad",
        submission_ext="json",
        hub="google/xtreme (MLQA.{lang}.{lang})",
        description="4,517-11,590 test questions per language; language-specific answer normalisation.",
        splits=("dev", "test"),
    )
)
