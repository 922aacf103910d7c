"""PAWS-X (XTREME): paraphrase identification in 7 languages, trained on English PAWS ("paws").

Adversarial paraphrase pairs: 2,000 dev and 2,000 test pairs per language, human-translated.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = tuple("de en es fr ja ko zh".split())
LABELS = ("0", "1")
HUB_ID = "google-research-datasets/paws-x"
RELEASE_FILES = {"train": "train", "dev": "dev_2k", "test": "test_2k"}  # x-final/{lang}/{file}.tsv
read_release = formats.headed_pairs("sentence1", "sentence2", "label")
convert_hub_rows = hub_rows.pair_rows("sentence1", "sentence2")


def source(task: str, splits: tuple[str, ...]) -> TaskSource:
    """PAWS-X files, in XTREME's layout or as released (x-final); `paws` reads the English ones."""
    return TaskSource(
        task,
        layouts=(
            Layout({s: f"pawsx/{s}-{{lang}}.tsv" for s in splits}, formats.xtreme_pairs),
            Layout({s: f"x-final/{{lang}}/{RELEASE_FILES[s]}.tsv" for s in splits}, read_release),
        ),
        hub=HubSource(HUB_ID, "{lang}", {s: {"dev": "validation"}.get(s, s) for s in splits}, convert_hub_rows),
    )


register(
    TaskSpec(
        name="pawsx",
        kind="pair_classification",
        languages={"xtreme": LANGUAGES},
        load=source("pawsx", ("train", "dev", "test")),
        labels=LABELS,
        train_task="paws",
        hub=f"{HUB_ID} ({{lang}})",
    )
)
