"""PAWS (English, PAWS-X en = PAWS-Wiki labeled final): PAWS-X's training set and an intermediate task.

PAWS-Wiki paraphrase pairs in English: 49,401 train, 2,000 dev.
"""

from xlt.tasks.pawsx import HUB_ID, LABELS, source
from xlt.tasks.spec import TaskSpec, register

register(
    TaskSpec(
        name="paws",
        kind="pair_classification",
        languages={"english": ("en",)},
        load=source("paws", ("train", "dev")),
        labels=LABELS,
        hub=f"{HUB_ID} (en)",
        splits=("train", "dev"),
    )
)
