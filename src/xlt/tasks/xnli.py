"""XNLI (XTREME, XTREME-R): natural language inference in 15 languages, trained on English MNLI.

5,010 test pairs per language, professionally translated from English.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = tuple("ar bg de el en es fr hi ru sw th tr ur vi zh".split())
LABELS = ("entailment", "neutral", "contradiction")

SOURCE = TaskSource(
    "xnli",
    layouts=(
        Layout({s: f"xnli/{s}-{{lang}}.tsv" for s in ("train", "dev", "test")}, formats.xtreme_pairs),
        Layout(
            {"dev": "XNLI-1.0/xnli.dev.tsv", "test": "XNLI-1.0/xnli.test.tsv"},
            formats.headed_pairs("sentence1", "sentence2", "gold_label", language="language"),
        ),
    ),
    hub=HubSource(
        "facebook/xnli",
        "{lang}",
        {"train": "train", "dev": "validation", "test": "test"},
        hub_rows.pair_rows("premise", "hypothesis"),
    ),
)

register(
    TaskSpec(
        name="xnli",
        kind="pair_classification",
        languages={"xtreme": LANGUAGES, "xtreme-r": LANGUAGES},
        load=SOURCE,
        labels=LABELS,
        train_task="mnli",
        hub="facebook/xnli ({lang})",
    )
)
