"""MLQA (XTREME, XTREME-R): extractive QA in 7 languages; trained on SQuAD, scored with MLQA's script.

4,517-11,590 test questions per language; language-specific answer normalisation.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = tuple("ar de en es hi vi zh".split())

SOURCE = TaskSource(
    "mlqa",
    # context and question in the same language, as XTREME evaluates (the release also has G-XLT pairs)
    layouts=(
        Layout(
            {s: f"mlqa/MLQA_V1/{s}/{s}-context-{{lang}}-question-{{lang}}.json" for s in ("dev", "test")},
            formats.squad_json,
        ),
    ),
    hub=HubSource("google/xtreme", "MLQA.{lang}.{lang}", {"dev": "validation", "test": "test"}, hub_rows.squad_rows()),
)

register(
    TaskSpec(
        name="mlqa",
        kind="qa",
        scorer="mlqa",
        languages={"xtreme": LANGUAGES, "xtreme-r": LANGUAGES},
        load=SOURCE,
        train_task="squad",
        hub="google/xtreme (MLQA.{lang}.{lang})",
        splits=("dev", "test"),
    )
)
