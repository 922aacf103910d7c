"""MNLI (English): the training set of XNLI and an intermediate task (Phang et al. 2020).

MultiNLI, 392,702 English training pairs; dev = matched dev set (9,815).
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register
from xlt.tasks.xnli import LABELS

SOURCE = TaskSource(
    "mnli",
    layouts=(
        Layout({"train": "xnli/train-en.tsv"}, formats.xtreme_pairs),  # XTREME's copy of the MNLI train set
        Layout(
            {"train": "MNLI/train.tsv", "dev": "MNLI/dev_matched.tsv"},
            formats.headed_pairs("sentence1", "sentence2", "gold_label"),
        ),
    ),
    hub=HubSource(
        "nyu-mll/glue",
        "mnli",
        {"train": "train", "dev": "validation_matched"},
        hub_rows.pair_rows("premise", "hypothesis"),
    ),
)

register(
    TaskSpec(
        name="mnli",
        kind="pair_classification",
        languages={"english": ("en",)},
        load=SOURCE,
        labels=LABELS,
        hub="nyu-mll/glue (mnli)",
        splits=("train", "dev"),
    )
)
