"""TyDiQA-GoldP multilingual train: the training questions of all 9 languages (49,881)."""

from dataclasses import replace

from xlt.tasks.spec import TaskSpec, register
from xlt.tasks.tydiqa import LANGUAGES, SOURCE

register(
    TaskSpec(
        name="tydiqa-ml",
        kind="qa",
        metrics=("f1", "exact_match"),
        scorer="squad",
        languages={"multilingual": LANGUAGES},
        load=replace(SOURCE, task="tydiqa-ml"),
        train_languages=LANGUAGES,
        submission_ext="json",
        hub="google/xtreme (tydiqa, train)",
        description="Multilingual intermediate task: TyDiQA-GoldP train in its 9 languages (native, not translated).",
        splits=("train",),
    )
)
