"""TyDiQA-GoldP multilingual train: the training questions of all 9 languages (49,881).

TyDiQA-GoldP train in its 9 languages (native, not translated).
"""

from dataclasses import replace

from xlt.tasks.spec import TaskSpec, register
from xlt.tasks.tydiqa import LANGUAGES, SOURCE

register(
    TaskSpec(
        name="tydiqa-ml",
        kind="qa",
        languages={"multilingual": LANGUAGES},
        load=replace(SOURCE, task="tydiqa-ml"),
        train_languages=LANGUAGES,
        hub="google/xtreme (tydiqa, train)",
        splits=("train",),
    )
)
