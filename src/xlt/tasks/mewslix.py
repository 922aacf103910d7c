"""Mewsli-X (XTREME-R): link WikiNews entity mentions to WikiData entities by their descriptions.

Fine-tune on English Wikipedia mention-entity pairs; retrieve from ~1M entities (MRR@20).
"""

from xlt.data import formats
from xlt.data.sources import Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = tuple("ar de en es fa ja pl ro ta tr uk".split())

SOURCE = TaskSource(
    "mewslix",
    layouts=(
        Layout({"train": "mewslix/wikipedia_pairs-train.jsonl"}, formats.mewslix_pairs),
        Layout({s: f"mewslix/wikinews_mentions-{s}.jsonl" for s in ("dev", "test")}, formats.mewslix_mentions),
    ),
)

register(
    TaskSpec(
        name="mewslix",
        kind="ranking",
        scorer="mewslix",
        languages={"xtreme-r": LANGUAGES},
        load=SOURCE,
        submission="json",
    )
)
