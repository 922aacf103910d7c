"""Social IQa (English): the first stage of XTREME-R's XCOPA chain (SIQA -> COPA).

Social commonsense QA, three answers each: 33,410 English train, 1,954 dev.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

SOURCE = TaskSource(
    "siqa",
    layouts=(Layout({s: f"siqa/socialiqa-train-dev/{s}.jsonl" for s in ("train", "dev")}, formats.siqa_jsonl),),
    hub=HubSource("allenai/social_i_qa", None, {"train": "train", "dev": "validation"}, hub_rows.siqa_rows),
)

register(
    TaskSpec(
        name="siqa",
        kind="multiple_choice",
        languages={"english": ("en",)},
        load=SOURCE,
        hub="allenai/social_i_qa",
        splits=("train", "dev"),
    )
)
