"""XNLI translate-train: MNLI machine-translated into the 15 XNLI languages (XNLI-MT 1.0).

The MNLI train set in 15 languages (English original + 14 MT).
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register
from xlt.tasks.xnli import LABELS, LANGUAGES

SOURCE = TaskSource(
    "xnli-tt",
    layouts=(
        Layout(
            {"train": "XNLI-MT-1.0/multinli/multinli.train.{lang}.tsv"},
            formats.headed_pairs("premise", "hypo", "label"),
        ),
    ),
    hub=HubSource("facebook/xnli", "{lang}", {"train": "train"}, hub_rows.pair_rows("premise", "hypothesis")),
)

register(
    TaskSpec(
        name="xnli-tt",
        kind="pair_classification",
        languages={"multilingual": LANGUAGES},
        load=SOURCE,
        labels=LABELS,
        train_languages=LANGUAGES,
        hub="facebook/xnli ({lang}, train)",
        splits=("train",),
    )
)
