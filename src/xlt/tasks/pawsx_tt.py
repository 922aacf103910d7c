"""PAWS-X translate-train: the English PAWS train set machine-translated into the 6 other PAWS-X languages.

PAWS train pairs in 7 languages (English original + 6 MT).
"""

from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.pawsx import HUB_ID, LABELS, LANGUAGES, convert_hub_rows, read_release
from xlt.tasks.spec import TaskSpec, register

SOURCE = TaskSource(
    "pawsx-tt",
    layouts=(Layout({"train": "x-final/{lang}/{train_file}.tsv"}, read_release),),
    hub=HubSource(HUB_ID, "{lang}", {"train": "train"}, convert_hub_rows),
    # the release keeps the English original as train.tsv and each translation as translated_train.tsv
    names=lambda lang: {"train_file": "train" if lang == "en" else "translated_train"},
)

register(
    TaskSpec(
        name="pawsx-tt",
        kind="pair_classification",
        languages={"multilingual": LANGUAGES},
        load=SOURCE,
        labels=LABELS,
        train_languages=LANGUAGES,
        hub=f"{HUB_ID} ({{lang}}, train)",
        splits=("train",),
    )
)
