"""XQuAD (XTREME, XTREME-R): SQuAD v1.1 dev paragraphs professionally translated; trained on SQuAD."""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

XTREME = tuple("ar de el en es hi ru th tr vi zh".split())
XTREME_R = tuple(sorted(XTREME + ("ro",)))

SOURCE = TaskSource(
    "xquad",
    layouts=(Layout({"test": "xquad/xquad.{lang}.json"}, formats.squad_json),),
    hub=HubSource("google/xquad", "xquad.{lang}", {"test": "validation"}, hub_rows.squad_rows()),
)

register(
    TaskSpec(
        name="xquad",
        kind="qa",
        metrics=("f1", "exact_match"),
        scorer="squad",
        languages={"xtreme": XTREME, "xtreme-r": XTREME_R},
        load=SOURCE,
        train_task="squad",
        submission_ext="json",
        hub="google/xquad (xquad.{lang})",
        description="240 paragraphs / 1,190 questions per language, parallel; scored with the SQuAD v1.1 script.",
        splits=("test",),
    )
)
