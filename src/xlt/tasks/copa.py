"""COPA (English, SuperGLUE): XCOPA's training set, trained after SIQA as XTREME-R does.

Choice of Plausible Alternatives: 400 English train, 100 dev (SuperGLUE test has no labels).
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

SOURCE = TaskSource(
    "copa",
    layouts=(
        Layout({"train": "xcopa/train.en.jsonl", "dev": "xcopa/val.en.jsonl"}, formats.copa_jsonl),  # XTREME
        Layout({"train": "COPA/train.jsonl", "dev": "COPA/val.jsonl"}, formats.copa_jsonl),  # SuperGLUE release
    ),
    hub=HubSource("aps/super_glue", "copa", {"train": "train", "dev": "validation"}, hub_rows.copa_rows),
)

register(
    TaskSpec(
        name="copa",
        kind="multiple_choice",
        languages={"english": ("en",)},
        load=SOURCE,
        hub="aps/super_glue (copa)",
        splits=("train", "dev"),
    )
)
