"""SQuAD v1.1 (English): the training set of XQuAD and MLQA, and an intermediate task.

87,599 English training questions, 10,570 dev.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

SOURCE = TaskSource(
    "squad",
    layouts=(Layout({"train": "squad/train-v1.1.json", "dev": "squad/dev-v1.1.json"}, formats.squad_json),),
    hub=HubSource("rajpurkar/squad", None, {"train": "train", "dev": "validation"}, hub_rows.squad_rows()),
)

register(
    TaskSpec(
        name="squad",
        kind="qa",
        languages={"english": ("en",)},
        load=SOURCE,
        hub="rajpurkar/squad",
        splits=("train", "dev"),
    )
)
